from django.urls import path

from . import views

app_name = "demands"

urlpatterns = [
    path("demands/", views.ledger, name="ledger"),
    path("demands/new/", views.receive, name="receive"),
    path("demands/inbox/dispatch/", views.dispatch_inbox, name="dispatch_inbox"),
    path("demands/inbox/unit/", views.unit_inbox, name="unit_inbox"),
    path("demands/overdue/", views.overdue, name="overdue"),
    path("demands/lists/<slug:key>/", views.demand_list, name="list"),
    path("demands/<str:number>/", views.detail, name="detail"),
    path("demands/<str:number>/attachments/<int:pk>/", views.attachment, name="attachment"),
    path("demands/<str:number>/<slug:verb>/", views.act, name="act"),
]
