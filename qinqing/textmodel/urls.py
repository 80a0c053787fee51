from django.urls import path

from . import views

app_name = "textmodel"

urlpatterns = [
    path("demands/<str:number>/reply-check/", views.reply_check, name="reply_check"),
]
