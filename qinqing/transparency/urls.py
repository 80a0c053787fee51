from django.urls import path

from . import views

app_name = "transparency"

urlpatterns = [
    path("", views.public_home, name="home"),
    path("rebuild/", views.rebuild, name="rebuild"),
    path("<str:code>/", views.public_page, name="jurisdiction"),
]
