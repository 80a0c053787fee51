"""Create a user and print a bearer token for it: `manage.py issue_floor_token`."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from floor.models import Token


class Command(BaseCommand):
    help = "Create the benchmark user (once) and print a new bearer token for it."

    def handle(self, *args, **options):
        user, _ = get_user_model().objects.get_or_create(username="floor-bench")
        raw = "fl_" + secrets.token_urlsafe(32)
        Token.objects.create(user=user, digest=Token.hash(raw))
        self.stdout.write(raw)
