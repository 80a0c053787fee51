"""The text model's records: the user dictionary, the trained models and the dispatchers' corrections."""

from django.conf import settings
from django.db import models

from qinqing.lib import clock


class Term(models.Model):
    """A word of the user dictionary: a government or industry term jieba must keep whole ("专精特新")."""

    word = models.CharField("词语", max_length=30, unique=True)
    weight = models.PositiveIntegerField("词频", null=True, blank=True,
                                         help_text="留空则自动取一个刚好使该词不被切开的词频")
    note = models.CharField("说明", max_length=100, blank=True)
    updated_at = models.DateTimeField("更新时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "分词词典"
        ordering = ["word"]

    def __str__(self):
        return self.word


class Kind(models.TextChoices):
    CATEGORY = "category", "诉求类别"
    UNIT = "unit", "承办单位"


class TextModel(models.Model):
    """One trained version of a classifier: what it learned from, how well it scored, and the pipeline itself.

    Versions count up per kind and are never overwritten; at most one per kind is active. Rolling back
    activates the previous version again, whose pipeline is still here.
    """

    kind = models.CharField("用途", max_length=10, choices=Kind.choices)
    version = models.PositiveIntegerField("版本")
    trained_at = models.DateTimeField("训练时间", default=clock.now)
    trained_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name="训练人", help_text="空为定时任务")
    n_examples = models.PositiveIntegerField("样本数")
    # {"macro_f1": 0.87, "per_class": {label: f1}, "folds": 5, "params": {...}, "labels": {id: name}, ...}
    scores = models.JSONField("交叉验证成绩", default=dict, blank=True)
    active = models.BooleanField("启用", default=False)
    # The fitted scikit-learn pipeline, pickled. Trained here from this deployment's data and only ever
    # unpickled by this deployment: the bytes never come from outside.
    pipeline = models.BinaryField("模型")

    class Meta:
        verbose_name = verbose_name_plural = "文本模型"
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="textmodel_unique_version"),
            models.UniqueConstraint(fields=["kind"], condition=models.Q(active=True), name="textmodel_one_active"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} v{self.version}"

    @property
    def macro_f1(self) -> float | None:
        return (self.scores or {}).get("macro_f1")


class Correction(models.Model):
    """A dispatcher chose something other than the suggestion: what was suggested, by which model, and
    what was chosen. The dispatched demand itself is the training example; this keeps the evidence of how
    often, and where, the suggestions are wrong."""

    demand = models.ForeignKey("demands.Demand", models.CASCADE, related_name="+", verbose_name="诉求")
    kind = models.CharField("用途", max_length=10, choices=Kind.choices)
    model = models.ForeignKey(TextModel, models.SET_NULL, null=True, blank=True, related_name="+",
                              verbose_name="模型版本", help_text="空为关键词建议")
    suggested = models.CharField("建议", max_length=80, blank=True)
    suggested_id = models.PositiveIntegerField(null=True, blank=True)
    confidence = models.FloatField("置信度", null=True, blank=True)
    chosen = models.CharField("实际选择", max_length=80)
    chosen_id = models.PositiveIntegerField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name="操作人")
    created_at = models.DateTimeField("时间", default=clock.now, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "建议更正记录"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.suggested or '无建议'} → {self.chosen}"
