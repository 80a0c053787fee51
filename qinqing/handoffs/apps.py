from django.apps import AppConfig


class HandoffsConfig(AppConfig):
    name = "qinqing.handoffs"
    verbose_name = "移送与挂起"
