from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "qinqing.supervision"
    verbose_name = "督查督办"
