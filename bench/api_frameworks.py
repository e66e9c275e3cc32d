# ruff: noqa: E402 - settings are configured before the framework modules are imported
"""A trivial JSON endpoint in django-ninja and in DRF, same Django, in-process (Django's test
Client, no middleware, no database): the framework's own cost per request (decision 0020).

DRF is not a dependency of the project; run this in a scratch virtualenv::

    python3.11 -m venv /tmp/fw && /tmp/fw/bin/pip install "Django>=5.2,<5.3" djangorestframework django-ninja
    /tmp/fw/bin/python bench/api_frameworks.py
"""

import statistics
import time

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only",  # noqa: S106 - a throwaway process
    ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["*"],
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework", "ninja"],
    MIDDLEWARE=[],
    DATABASES={},
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": [],
        "UNAUTHENTICATED_USER": None,
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    },
)
django.setup()
from django.urls import path
from ninja import NinjaAPI, Schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response


class Out(Schema):
    id: int
    title: str


api = NinjaAPI()


@api.get("/item/{pk}", response=Out)
def ninja_item(request, pk: int):
    return {"id": pk, "title": "科普月"}


class OutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


@api_view(["GET"])
def drf_item(request, pk: int):
    return Response(OutSerializer({"id": pk, "title": "科普月"}).data)


urlpatterns = [path("ninja/", api.urls), path("drf/item/<int:pk>", drf_item)]

from django.test import Client

c = Client()
for name, url in (("django-ninja", "/ninja/item/7"), ("DRF", "/drf/item/7")):
    assert c.get(url).json() == {"id": 7, "title": "科普月"}, url
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(2000):
            c.get(url)
        runs.append((time.perf_counter() - t) / 2000 * 1e6)
    print(f"{name}: median {statistics.median(runs):.0f} µs/request (5 runs of 2000)")
