"""Celery application. With no broker configured tasks run eagerly, in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepuyue.settings")

app = Celery("kepuyue")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
