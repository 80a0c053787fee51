from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    path("", views.board, name="board"),
    path("assessment/", views.assessment_page, name="assessment"),
    path("notices/", views.notices, name="notices"),
    path("notices/<int:pk>/", views.notice_detail, name="notice"),
    path("notices/<int:pk>/answer/", views.notice_answer, name="notice_answer"),
    path("demands/<str:number>/notice/", views.demand_notice_form, name="notice_form"),
    path("demands/<str:number>/notice/issue/", views.notice_issue, name="notice_issue"),
]
