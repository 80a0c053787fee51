from django.apps import AppConfig


class DemandsConfig(AppConfig):
    name = "qinqing.demands"
    verbose_name = "诉求办理"
