"""The configured categories, deadline rules and business-environment aspects, cached per process.

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

from .models import Category, EnvironmentAspect, EnvironmentClass, SlaRule

_TTL_SECONDS = 60
_cache: dict = {"snapshot": None, "loaded_at": 0.0}


@dataclass(frozen=True)
class Taxonomy:
    active_categories: tuple = ()  # in display order
    rules: dict = field(default_factory=dict)  # id -> SlaRule
    default_rule: SlaRule | None = None
    aspects: tuple = ()  # active EnvironmentAspects with their class, in display order
    # category id -> the active aspect an intake suggests (its own default, else its parent's)
    default_aspects: dict = field(default_factory=dict)

    aspect_names: dict = field(default_factory=dict)  # every aspect id (retired ones too) -> (大类, 方面)
    all_aspects: tuple = ()  # every aspect, retired ones too, in display order (statistics count history)

    def suggested_aspect_id(self, category_id: int | None) -> int | None:
        return self.default_aspects.get(category_id)


def aspect_label(aspect_id: int | None) -> str:
    """"市场环境·市场准入" for an aspect id, from the cache: tables show it without joining two tables."""
    if aspect_id is None:
        return ""
    names = get_taxonomy().aspect_names.get(aspect_id)
    return "·".join(names) if names else ""


def get_taxonomy() -> Taxonomy:
    snapshot = _cache["snapshot"]
    if snapshot is None or time.monotonic() - _cache["loaded_at"] > _TTL_SECONDS:
        rules = {rule.pk: rule for rule in SlaRule.objects.all()}
        every_aspect = list(EnvironmentAspect.objects.select_related("env_class"))
        aspects = tuple(a for a in every_aspect if a.active)
        active_aspects = {a.pk for a in aspects}
        own = {pk: (parent, aspect) for pk, parent, aspect in
               Category.objects.values_list("pk", "parent_id", "default_aspect_id")}
        defaults = {}
        for pk, (parent, aspect) in own.items():
            aspect = aspect if aspect in active_aspects else None
            if aspect is None and parent in own and own[parent][1] in active_aspects:
                aspect = own[parent][1]
            if aspect is not None:
                defaults[pk] = aspect
        snapshot = Taxonomy(
            active_categories=tuple(Category.objects.filter(active=True)),
            rules=rules,
            default_rule=next((r for r in rules.values() if r.is_default), None),
            aspects=aspects,
            default_aspects=defaults,
            aspect_names={a.pk: (a.env_class.name, a.name) for a in every_aspect},
            all_aspects=tuple(every_aspect),
        )
        _cache.update(snapshot=snapshot, loaded_at=time.monotonic())
    return snapshot


def environment_choices() -> tuple[list, list]:
    """(class choices, aspect choices) of the filter bars, from the cache: "全部" first, aspects as
    "市场环境·市场准入" so a flat list still reads by class."""
    aspects = get_taxonomy().aspects
    classes = list({a.env_class_id: a.env_class.name for a in aspects}.items())
    return [("", "全部"), *classes], [("", "全部"), *((a.pk, a.label) for a in aspects)]


def invalidate() -> None:
    _cache["snapshot"] = None


@receiver(post_save, sender=Category)
@receiver(post_delete, sender=Category)
@receiver(post_save, sender=SlaRule)
@receiver(post_delete, sender=SlaRule)
@receiver(post_save, sender=EnvironmentAspect)
@receiver(post_delete, sender=EnvironmentAspect)
@receiver(post_save, sender=EnvironmentClass)
@receiver(post_delete, sender=EnvironmentClass)
def _taxonomy_changed(**kwargs):
    invalidate()
    # A reader in another thread may reload before this transaction commits: drop it again then.
    transaction.on_commit(invalidate)
