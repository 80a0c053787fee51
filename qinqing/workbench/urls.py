from django.urls import path

from . import views

app_name = "workbench"

urlpatterns = [
    path("export/", views.export, name="export"),
    path("exports/", views.exports, name="exports"),
    path("exports/<int:pk>/", views.export_job, name="export_job"),
    path("exports/<int:pk>/download/", views.download, name="download"),
    path("filters/save/", views.save_filter, name="save_filter"),
    path("filters/<int:pk>/delete/", views.delete_filter, name="delete_filter"),
    path("columns/", views.columns, name="columns"),
    path("demands/<str:number>/slip.docx", views.slip, name="slip"),
]
