"""In-app notifications, created by the worker from timeline entries."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Notification(models.Model):
    """A message to one person about one step of a demand."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications",
                                  verbose_name="接收人")
    demand = models.ForeignKey("demands.Demand", models.CASCADE, null=True, related_name="+", verbose_name="诉求")
    event = models.ForeignKey("demands.DemandEvent", models.CASCADE, null=True, related_name="+")
    text = models.CharField("内容", max_length=300)
    created_at = models.DateTimeField("时间", default=timezone.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "通知"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]
        constraints = [models.UniqueConstraint(fields=["recipient", "event"], name="one_notification_per_event")]

    def __str__(self):
        return self.text
