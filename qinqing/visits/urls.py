from django.urls import path

from . import exports, views

app_name = "visits"

urlpatterns = [
    path("", views.my_week, name="my_week"),
    path("log/", views.visit_log, name="log"),
    path("new/", views.visit_new, name="new"),
    path("<int:pk>/", views.visit_detail, name="detail"),
    path("enterprises/<int:pk>/", views.enterprise_duties, name="enterprise"),
    path("enterprises/<int:pk>/assign/", views.assign, name="assign"),
    path("assignments/", views.assignments, name="assignments"),
    path("assignments/import/", views.assignments_import, name="assignments_import"),
    path("assignments/rule/", views.assign_by_rule, name="assign_rule"),
    path("campaigns/", views.campaigns, name="campaigns"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/targets/", views.campaign_targets, name="campaign_targets"),
    path("campaigns/<int:pk>/seminars/", views.campaign_seminar, name="campaign_seminar"),
    path("campaigns/<int:pk>/groups/", views.campaign_group, name="campaign_group"),
    path("neglect/", views.neglect, name="neglect"),
    path("log/export/", exports.visit_log_xlsx, name="log_export"),
    path("campaigns/<int:pk>/export/", exports.campaign_xlsx, name="campaign_export"),
    path("seminars/export/", exports.seminars_xlsx, name="seminars_export"),
]
