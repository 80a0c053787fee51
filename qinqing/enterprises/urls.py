from django.urls import path

from . import import_views, views

app_name = "enterprises"

urlpatterns = [
    path("", views.registry, name="list"),
    path("export.xlsx", views.export, name="export"),
    path("template.xlsx", views.template, name="template"),
    path("new/", views.create, name="create"),
    path("imports/", import_views.upload, name="import"),
    path("imports/<int:pk>/", import_views.job_page, name="import_job"),
    path("imports/<int:pk>/confirm/", import_views.confirm, name="import_confirm"),
    path("imports/<int:pk>/errors.xlsx", import_views.error_file, name="import_errors"),
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/edit/", views.edit, name="edit"),
    path("<str:code>/figures/", views.add_figures, name="figures"),
]
