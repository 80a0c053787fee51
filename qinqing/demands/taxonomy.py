"""The configured categories and deadline rules, cached per process.

Every intake suggests a category from the text and every transition recomputes deadlines from a rule,
so both were read from the database on every request although administrators change them a few
times a year. Like the working-day calendar, the snapshot is dropped when a row is saved or deleted
in this process and reloaded after a minute in any case, for changes made by another process.
"""

import time
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Category, SlaRule

_TTL_SECONDS = 60
_cache: dict = {"snapshot": None, "loaded_at": 0.0}


@dataclass(frozen=True)
class Taxonomy:
    active_categories: tuple = ()  # in display order
    rules: dict = field(default_factory=dict)  # id -> SlaRule
    default_rule: SlaRule | None = None


def get_taxonomy() -> Taxonomy:
    snapshot = _cache["snapshot"]
    if snapshot is None or time.monotonic() - _cache["loaded_at"] > _TTL_SECONDS:
        rules = {rule.pk: rule for rule in SlaRule.objects.all()}
        snapshot = Taxonomy(
            active_categories=tuple(Category.objects.filter(active=True)),
            rules=rules,
            default_rule=next((r for r in rules.values() if r.is_default), None),
        )
        _cache.update(snapshot=snapshot, loaded_at=time.monotonic())
    return snapshot


def invalidate() -> None:
    _cache["snapshot"] = None


@receiver(post_save, sender=Category)
@receiver(post_delete, sender=Category)
@receiver(post_save, sender=SlaRule)
@receiver(post_delete, sender=SlaRule)
def _taxonomy_changed(**kwargs):
    invalidate()
    # A reader in another thread may reload before this transaction commits: drop it again then.
    transaction.on_commit(invalidate)
