from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("briefing/", views.briefing, name="briefing"),
    path("circulars/", views.circular_list, name="circulars"),
    path("circulars/issue/", views.circular_issue, name="circular_issue"),
    path("circulars/<int:pk>/", views.circular_detail, name="circular"),
    path("circulars/<int:pk>/<slug:fmt>/", views.circular_file, name="circular_file"),
]
