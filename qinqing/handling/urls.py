from django.urls import path

from . import views

app_name = "handling"

urlpatterns = [
    path("mine/", views.mine, name="mine"),
    path("bulk/", views.bulk, name="bulk"),
    path("canned/", views.canned, name="canned"),
    path("canned/<int:pk>/", views.canned_edit, name="canned_edit"),
    path("canned/<int:pk>/delete/", views.canned_delete, name="canned_delete"),
    path("demands/<str:number>/assign/", views.assign, name="assign"),
    path("demands/<str:number>/watch/", views.watch, name="watch"),
    path("demands/<str:number>/note/", views.note, name="note"),
    path("demands/<str:number>/urge/", views.urge, name="urge"),
]
