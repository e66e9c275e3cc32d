"""``/api/v1/`` (the open API, django-ninja) and the staff page of tokens ``/org/api/tokens/``."""

from django.http import JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from . import views
from .core import api, json_not_allowed
from .read import router as read_router
from .write import router as write_router

api.add_router("", read_router)
api.add_router("/org", write_router)

app_name = "api"

urlpatterns = [
    path("org/api/tokens/", views.token_list, name="tokens"),
    path("org/api/tokens/new", views.token_create, name="token_create"),
    path("org/api/tokens/<int:pk>/revoke", views.token_revoke, name="token_revoke"),
    path("org/api/webhooks/", views.webhook_list, name="webhooks"),
    path("org/api/webhooks/new", views.webhook_create, name="webhook_create"),
    path("org/api/webhooks/<int:pk>/enable", views.webhook_enable, name="webhook_enable"),
    path("org/api/webhooks/<int:pk>/delete", views.webhook_delete, name="webhook_delete"),
]


@csrf_exempt
def not_found(request, rest=""):
    """Any other address under ``/api/``: the API's error body, not the portal's HTML page."""
    body = {"detail": "未找到，或无权查看", "code": "not_found", "errors": {}}
    return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})


def server_error(request):
    body = {
        "detail": "服务器内部错误，请稍后重试；如持续出现请联系平台",
        "code": "server_error",
        "errors": {},
    }
    return JsonResponse(body, status=500, json_dumps_params={"ensure_ascii": False})


def _json_errors(urls):
    """django-ninja's URL patterns with every path view's 405 as the API's JSON error body."""
    patterns, app_name, namespace = urls
    for pattern in patterns:
        pattern.callback = json_not_allowed(pattern.callback)
    return patterns, app_name, namespace


api_urls = [path("api/v1/", _json_errors(api.urls)), re_path(r"^api/(?P<rest>.*)$", not_found)]
