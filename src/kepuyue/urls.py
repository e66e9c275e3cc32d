"""URL map: the public portal at the root, the Chinese admin under /admin/, language switch under /i18n/."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from kepuyue.accounts.views import admin_login
from kepuyue.api.urls import api_urls, not_found, server_error
from kepuyue.common.health import health_view
from kepuyue.common.views import healthz, media
from kepuyue.guide.sitemaps import GuideSitemap
from kepuyue.portal.sitemaps import SITEMAPS
from kepuyue.quiz.sitemaps import RoundSitemap

# The sitemap's sections of the apps beside the portal (it may not import them, docs/architecture.md).
SITEMAPS.update(guides=GuideSitemap, quiz=RoundSitemap)

admin.site.site_header = "科普月平台管理"
admin.site.site_title = "科普月平台管理"
admin.site.index_title = "数据管理"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Readiness: the database, cache, stores and (with a broker) a Celery worker (django-health-check).
    path("health/", health_view(), name="health"),
    # One login page for everyone (lock-out, TOTP, initial password): the admin's sends there.
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("accounts/", include("kepuyue.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("org/activities/", include("kepuyue.activities.urls")),
    path("calls/", include("kepuyue.calls.urls")),
    path("regions/", include("kepuyue.regions.urls")),
    path("org/review/", include("kepuyue.review.urls")),
    path("dashboard/", include("kepuyue.dashboard.urls")),
    path("org/dashboard/", include("kepuyue.dashboard.staff_urls")),
    path("inbox/", include("kepuyue.notifications.urls")),
    path("quiz/", include("kepuyue.quiz.urls")),
    path("training/", include("kepuyue.training.urls")),
    path("guide/", include("kepuyue.guide.urls")),
    path("", include("kepuyue.resources.urls")),
    path("tours/", include("kepuyue.tours.urls")),
    path("org/tours/", include("kepuyue.tours.staff_urls")),
    *api_urls,
    path("", include("kepuyue.api.urls")),
    path("", include("kepuyue.registrations.urls")),
    path("", include("kepuyue.specials.urls")),
    path("", include("kepuyue.portal.urls")),
]


def handler404(request, exception=None):
    """Under ``/api/`` the API's JSON error body (a path the middleware refused included); the
    portal's Chinese page elsewhere."""
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return not_found(request)
    return page_not_found(request, exception)


def handler500(request):
    from django.views.defaults import server_error as page_server_error

    if request.path.startswith("/api/"):
        return server_error(request)
    return page_server_error(request)


if not settings.AWS_STORAGE_BUCKET_NAME:
    # Embedded default: uploaded media come from var/media/ through Django; in scale-out the
    # object store serves them. Byte ranges for videos on iPhones (kepuyue.common.views.media).
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", media)]
