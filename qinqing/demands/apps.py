from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_search_index(sender, using, **kwargs):
    from django.db import connections

    from .search import ensure_search_index

    ensure_search_index(connections[using])


class DemandsConfig(AppConfig):
    name = "qinqing.demands"
    verbose_name = "诉求办理"

    def ready(self):
        post_migrate.connect(_ensure_search_index, sender=self)
        from . import taxonomy  # noqa: F401  (connects the cache's invalidation signals)
