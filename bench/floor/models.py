"""A row, its event, and the bearer tokens that may write them."""

import hashlib

from django.conf import settings
from django.db import models


class Token(models.Model):
    """A bearer token; only its SHA-256 is stored, as in the product."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE)
    digest = models.CharField(max_length=64, unique=True)
    revoked = models.BooleanField(default=False)

    def __str__(self):
        return self.digest[:8]

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()


class Row(models.Model):
    """One demand as received: the fields the product's intake schema carries."""

    credit_code = models.CharField(max_length=18, blank=True)
    channel = models.CharField(max_length=20)
    title = models.CharField(max_length=120)
    content = models.TextField()
    category = models.CharField(max_length=60, blank=True)
    received_at = models.DateTimeField()
    reporter_name = models.CharField(max_length=40, blank=True)
    reporter_phone = models.CharField(max_length=30, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT)

    def __str__(self):
        return self.title


class Event(models.Model):
    """The row's timeline entry, written in the same transaction."""

    row = models.ForeignKey(Row, models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT)
    verb = models.CharField(max_length=20)
    note = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    def __str__(self):
        return self.verb
