"""Where files that only staff may read are kept."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage


def private_storage() -> Storage:
    """Storage for non-public uploads (imported 信息表 with contact names and phones).

    Embedded default: ``PRIVATE_MEDIA_ROOT`` (``var/private``), outside ``MEDIA_ROOT`` and served by
    no URL. Scale-out: the S3 bucket under ``private/``, private ACL, links only signed and
    short-lived.
    """
    if settings.AWS_STORAGE_BUCKET_NAME:
        from storages.backends.s3 import S3Storage

        return S3Storage(
            location="private", default_acl="private", querystring_auth=True, querystring_expire=300
        )
    return FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)
