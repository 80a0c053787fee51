from django.urls import path

from . import portal_views

app_name = "visits_portal"

urlpatterns = [
    path("", portal_views.my_visits, name="home"),
    path("<int:pk>/respond/", portal_views.respond, name="respond"),
]
