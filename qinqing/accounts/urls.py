from django.contrib.auth import views as auth_views
from django.urls import path

from . import account_views, privacy_views, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", account_views.otp_verify, name="otp_verify"),
    path("account/", account_views.account_security, name="account_security"),
    path("account/password/", account_views.password_change, name="password_change"),
    path("account/2fa/", account_views.otp_enrol, name="otp_enrol"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("reveal/demands/<str:number>/<str:field>/", privacy_views.reveal_demand, name="reveal_demand"),
    path("reveal/enterprises/<str:code>/<str:field>/", privacy_views.reveal_enterprise, name="reveal_enterprise"),
    path("", views.home, name="home"),
]
