from django.apps import AppConfig


class HotissuesConfig(AppConfig):
    name = "qinqing.hotissues"
    verbose_name = "热点问题"
