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


class Settings(models.Model):
    """The administrators' switches for what the system does with the text on its own (one row, pk 1).

    Changed only through services.configure (the admin calls it), which writes the audit log."""

    auto_dispatch = models.BooleanField(
        "自动派单", default=False,
        help_text="开启后，新诉求的主办单位建议（文本模型给出）置信度高于阈值时，由系统直接交办")
    auto_dispatch_threshold = models.FloatField(
        "自动派单置信度阈值", default=0.9, help_text="0.5 至 1 之间；越高自动派单越少、越准")
    duplicate_threshold = models.FloatField(
        "重复诉求相似度阈值", default=0.5,
        help_text="0.2 至 1 之间：新诉求与近期未办结诉求的文字相似度（字三元组 Jaccard 估计）达到此值即列为疑似重复；"
                  "同一企业的诉求阈值减半")
    duplicate_days = models.PositiveIntegerField("疑似重复的比对范围（天）", default=90)
    updated_at = models.DateTimeField("更新时间", default=clock.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name="更新人")

    class Meta:
        verbose_name = verbose_name_plural = "文本智能设置"

    def __str__(self):
        return "文本智能设置"


class Signature(models.Model):
    """A demand's MinHash signature over the character trigrams of its normalized text (qinqing.textmodel
    .duplicates): 64 unsigned 32-bit minima, little-endian. Written by the worker that delivers the intake,
    or by `manage.py textmodel signatures` for demands loaded otherwise."""

    demand = models.OneToOneField("demands.Demand", models.CASCADE, primary_key=True, related_name="+",
                                  db_constraint=False)
    minhash = models.BinaryField()

    class Meta:
        verbose_name = verbose_name_plural = "诉求文本签名"

    def __str__(self):
        return f"诉求{self.demand_id}的签名"


class Band(models.Model):
    """The LSH index: one row per band of a demand's signature (16 bands of 4 minima, hashed to 63 bits).
    Two demands sharing a band are candidate duplicates; one indexed lookup finds them at a million demands."""

    key = models.BigIntegerField(db_index=True)
    demand_id = models.BigIntegerField()

    class Meta:
        verbose_name = verbose_name_plural = "诉求签名分段"

    def __str__(self):
        return f"{self.key}→{self.demand_id}"


class ReplyCheck(models.Model):
    """The advice given on a formal reply before it was sent (never a block): which flags were raised, how
    relevant the reply was to the demand's text, and whether it was sent."""

    demand = models.ForeignKey("demands.Demand", models.CASCADE, related_name="+", verbose_name="诉求")
    unit = models.ForeignKey("accounts.Unit", models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name="承办单位")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                              verbose_name="答复人")
    checked_at = models.DateTimeField("检查时间", default=clock.now, db_index=True)
    relevance = models.FloatField("与诉求的相关度")
    flags = models.JSONField("提示", default=list, blank=True)  # codes of qinqing.textmodel.replies.FLAGS
    flagged = models.BooleanField("有提示", default=False)
    reused = models.PositiveIntegerField("相同答复次数", default=0, help_text="此前其他诉求使用过的同一答复（去掉数字后）")
    # The reply's normalized text without digits, hashed: the same boilerplate reused with other dates and numbers.
    text_hash = models.CharField(max_length=16, db_index=True)
    sent = models.BooleanField("已发送", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "答复质量检查"
        ordering = ["-checked_at", "-id"]
        indexes = [models.Index(fields=["unit", "checked_at"], name="textmodel_replycheck_unit")]

    def __str__(self):
        return f"{self.demand_id}：{'、'.join(self.flags) or '无提示'}"


class Reading(models.Model):
    """A demand's text as the classifier reads it, segmented once (qinqing.textmodel.reading): its title and
    content normalized, and their jieba words separated by spaces (a word never holds a space).

    `version` names the normaliser and the user dictionary it was segmented with, `source` the text it was
    read from: a dictionary term added, or the demand's text changed, and the row is read again when next
    needed. Written by the worker that delivers the intake, by training for the demands without one, and
    by `manage.py textmodel segment`."""

    demand = models.OneToOneField("demands.Demand", models.CASCADE, primary_key=True, related_name="+",
                                  db_constraint=False)
    version = models.CharField(max_length=16)
    source = models.CharField(max_length=16)
    title = models.TextField()
    content = models.TextField()
    title_words = models.TextField()
    content_words = models.TextField()

    class Meta:
        verbose_name = verbose_name_plural = "诉求分词结果"

    def __str__(self):
        return f"诉求{self.demand_id}的分词"
