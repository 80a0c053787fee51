from django.urls import path

from . import views

app_name = "fulfilment"

urlpatterns = [
    path("", views.ledger_page, name="ledger"),
    path("applications/", views.application_list, name="applications"),
    path("applications/<int:pk>/", views.application_detail, name="application"),
    path("applications/<int:pk>/act/", views.application_act, name="application_act"),
    path("policy/<int:pk>/", views.policy_fulfilment, name="policy"),
    path("policy/<int:pk>/record/", views.record_application, name="record"),
    path("policy/<int:pk>/batch/", views.build_batch, name="build"),
    path("batches/", views.batch_list, name="batches"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("batches/<int:pk>/act/", views.batch_act, name="batch_act"),
    path("mine/", views.my_fulfilment, name="mine"),
    path("mine/apply/<int:pk>/", views.apply, name="apply"),
]
