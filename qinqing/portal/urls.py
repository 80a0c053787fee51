from django.urls import path

from qinqing.transparency import material_views

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
    # 补充材料 and in-page previews (qinqing.transparency.material_views)
    path("demands/<str:number>/follow-up/", material_views.follow_up, name="follow_up"),
    path("demands/<str:number>/files/<int:pk>/preview/", material_views.portal_preview, name="attachment_preview"),
]
