from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "kepuyue.common"
    label = "common"
    verbose_name = "公共"

    def ready(self) -> None:
        from django.contrib.admin.options import BaseModelAdmin
        from django.db.models.signals import pre_save

        from . import text

        # The model-level hook of the text layer (kepuyue.common.text): before any platform model
        # or account is saved — by a service, the admin, a command — its texts lose NUL and control
        # characters and are NFC, so no downstream writer (PostgreSQL, openpyxl, e-mail) fails later.
        pre_save.connect(_clean_before_save, dispatch_uid="kepuyue_clean_text")

        # Every admin form field built from a model field gets the same cleaning and a Chinese length
        # message naming the field (ModelAdmin and inlines alike; declared form fields keep theirs).
        if not getattr(BaseModelAdmin.formfield_for_dbfield, "_kepuyue", False):
            original = BaseModelAdmin.formfield_for_dbfield

            def formfield_for_dbfield(self, db_field, request, **kwargs):
                field = original(self, db_field, request, **kwargs)
                if field is not None:
                    text.harden_field(field)
                return field

            formfield_for_dbfield._kepuyue = True
            BaseModelAdmin.formfield_for_dbfield = formfield_for_dbfield


def _clean_before_save(sender, instance, raw=False, **kwargs) -> None:
    if raw:
        return  # fixtures load as they are
    module = sender.__module__
    if module.startswith("kepuyue.") or (
        sender._meta.app_label == "auth" and sender._meta.model_name == "user"
    ):
        from .text import clean_instance, normalize_email

        clean_instance(instance)
        if sender._meta.app_label == "auth" and getattr(instance, "email", ""):
            try:
                instance.email = normalize_email(instance.email)
            except Exception:  # noqa: BLE001, S110 - forms and services give the message; never fail a save here
                pass
