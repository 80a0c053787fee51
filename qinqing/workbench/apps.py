from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "qinqing.workbench"
    verbose_name = "工作台"
