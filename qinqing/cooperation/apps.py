from django.apps import AppConfig


class CooperationConfig(AppConfig):
    name = "qinqing.cooperation"
    verbose_name = "协办与督导"
