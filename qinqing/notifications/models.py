"""In-app notifications, created by the worker from timeline entries."""

from django.conf import settings
from django.db import models

from qinqing.lib import clock


class Notification(models.Model):
    """A message to one person about one step of a demand."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications",
                                  verbose_name="接收人")
    demand = models.ForeignKey("demands.Demand", models.CASCADE, null=True, related_name="+", verbose_name="诉求")
    event = models.ForeignKey("demands.DemandEvent", models.CASCADE, null=True, related_name="+")
    text = models.CharField("内容", max_length=300)
    created_at = models.DateTimeField("时间", default=clock.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "通知"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]
        constraints = [models.UniqueConstraint(fields=["recipient", "event"], name="one_notification_per_event")]

    def __str__(self):
        return self.text


class Preference(models.Model):
    """How one person wants to be told, besides the in-app centre (which everybody has)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="notification_preference",
                                verbose_name="用户")
    by_email = models.BooleanField("邮件通知", default=False, help_text="发送到账号登记的电子邮箱")
    by_sms = models.BooleanField("短信通知", default=False, help_text="发送到账号登记的手机号")
    updated_at = models.DateTimeField("更新时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "通知偏好"

    def __str__(self):
        return str(self.user)


class SmsMessage(models.Model):
    """One text message handed to the SMS gateway. The default gateway only records it here."""

    class Status(models.TextChoices):
        LOGGED = "logged", "已记录（未发送）"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name="接收人")
    phone = models.CharField("手机号", max_length=20)
    text = models.CharField("内容", max_length=300)
    backend = models.CharField("发送通道", max_length=100)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.LOGGED)
    error = models.CharField("错误", max_length=300, blank=True)
    created_at = models.DateTimeField("时间", default=clock.now)

    class Meta:
        verbose_name = verbose_name_plural = "短信记录"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.phone} {self.text[:20]}"
