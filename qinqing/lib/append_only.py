"""Audit trails that can only grow: the querysets and instances of these models refuse edits."""

from django.db import models

UPDATE_REFUSED = "审计记录只能追加，不能修改。"
DELETE_REFUSED = "审计记录只能追加，不能删除。"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError(UPDATE_REFUSED)

    def delete(self):
        raise TypeError(DELETE_REFUSED)

    _raw_delete = delete


class AppendOnlyModel(models.Model):
    """Rows are inserted once; saving an existing row or deleting one raises."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise TypeError(UPDATE_REFUSED)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(DELETE_REFUSED)
