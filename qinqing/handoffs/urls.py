from django.urls import path

from . import views

app_name = "handoffs"

urlpatterns = [
    path("", views.handoff_list, name="list"),
    path("demands/<str:number>/<str:verb>/", views.act, name="act"),
]
