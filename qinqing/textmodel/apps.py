from django.apps import AppConfig


class TextModelConfig(AppConfig):
    name = "qinqing.textmodel"
    verbose_name = "文本智能"

    def ready(self):
        # A term saved or deleted in this process rebuilds this process's tokenizer at its next use.
        from django.db.models.signals import post_delete, post_save

        from .models import Term
        from .normalize import dictionary

        def _term_changed(sender, **kwargs):
            dictionary.invalidate()

        post_save.connect(_term_changed, sender=Term, weak=False,
                          dispatch_uid="qinqing-textmodel-term-saved")
        post_delete.connect(_term_changed, sender=Term, weak=False,
                            dispatch_uid="qinqing-textmodel-term-deleted")
