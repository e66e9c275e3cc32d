"""Kepuyue 科普月: the open platform for China's National Science Popularization Month."""

from .celery import app as celery_app

__all__ = ["celery_app"]
