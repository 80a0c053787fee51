from django.apps import AppConfig


class HandlingConfig(AppConfig):
    name = "qinqing.handling"
    verbose_name = "办理协同"
