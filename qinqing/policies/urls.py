from django.urls import path

from . import views

app_name = "policies"

urlpatterns = [
    path("", views.policy_list, name="list"),
    path("new/", views.policy_new, name="new"),
    path("import/", views.policy_import, name="import"),
    path("pocket-book/", views.pocket_book, name="pocketbook"),
    path("<int:pk>/", views.policy_detail, name="detail"),
    path("<int:pk>/edit/", views.policy_edit, name="edit"),
    path("<int:pk>/rule/", views.policy_rule, name="rule"),
    path("<int:pk>/status/", views.policy_status, name="status"),
    path("<int:pk>/files/", views.policy_attach, name="attach"),
    path("files/<int:pk>/", views.policy_file, name="file"),
]
