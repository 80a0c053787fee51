from django.urls import path

from . import views

app_name = "cooperation"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("disputes/", views.disputes, name="disputes"),
    path("demands/<str:number>/accept/", views.accept_task, name="accept"),
    path("demands/<str:number>/opinion/", views.opinion, name="opinion"),
    path("demands/<str:number>/dispute/", views.dispute, name="dispute"),
    path("demands/<str:number>/decide/", views.decide, name="decide"),
    path("demands/<str:number>/instruct/", views.instruct, name="instruct"),
    path("demands/<str:number>/answer/", views.answer, name="answer"),
    path("demands/<str:number>/progress/", views.progress, name="progress"),
    path("demands/<str:number>/review/", views.review, name="review"),
]
