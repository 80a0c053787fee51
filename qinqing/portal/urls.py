from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.submit, name="submit"),
    path("history/", views.history, name="history"),
    path("demands/<str:number>/", views.detail, name="detail"),
    path("demands/<str:number>/rate/", views.rate, name="rate"),
    path("demands/<str:number>/reopen/", views.reopen, name="reopen"),
    path("demands/<str:number>/files/<int:pk>/", views.attachment, name="attachment"),
]
