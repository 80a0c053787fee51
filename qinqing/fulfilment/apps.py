from django.apps import AppConfig


class FulfilmentConfig(AppConfig):
    name = "qinqing.fulfilment"
    verbose_name = "政策兑现"
