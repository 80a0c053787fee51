from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "qinqing.ops"
    verbose_name = "运维"
