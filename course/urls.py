from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from course import accounts, views

urlpatterns = [
    path("", views.home, name="home"),
    path("modules/<slug:module>/lessons/<slug:slug>/", views.lesson, name="lesson"),
    path("modules/<slug:module>/lessons/<slug:slug>/read/", views.mark_read, name="mark_read"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
