from django.urls import path

from . import portal_views

app_name = "policies_portal"

urlpatterns = [
    path("", portal_views.my_policies, name="home"),
    path("<int:pk>/", portal_views.policy_page, name="detail"),
    path("files/<int:pk>/", portal_views.policy_file, name="file"),
    path("<int:pk>/ask/", portal_views.ask, name="ask"),
    path("push-settings/", portal_views.push_settings, name="push_settings"),
]
