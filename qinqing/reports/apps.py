from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "qinqing.reports"
    verbose_name = "统计通报"
