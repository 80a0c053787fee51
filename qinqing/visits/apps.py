from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "qinqing.visits"
    verbose_name = "包联走访"
