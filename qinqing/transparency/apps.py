from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "qinqing.transparency"
    verbose_name = "一公开"
