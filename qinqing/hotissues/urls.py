from django.urls import path

from . import views

app_name = "hotissues"

urlpatterns = [
    path("", views.hot_list, name="list"),
    path("refresh/", views.hot_refresh, name="refresh"),
    path("<int:pk>/", views.hot_detail, name="detail"),
    path("<int:pk>/study/", views.study_start, name="study_start"),
    path("studies/<int:pk>/", views.study_detail, name="study"),
]
