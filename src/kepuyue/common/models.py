"""Shared model bases."""

from django.db import models


class TimestampedModel(models.Model):
    """Adds ``created`` and ``updated`` (aware datetimes, set by the database layer on save)."""

    created = models.DateTimeField("创建时间", auto_now_add=True)
    updated = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True
