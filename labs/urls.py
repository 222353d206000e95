from __future__ import annotations

from django.urls import path

from labs import views

urlpatterns = [
    path("modules/<slug:module>/labs/<slug:slug>/", views.lab, name="lab"),
    path(
        "modules/<slug:module>/labs/<slug:slug>/conversations/<int:pk>/",
        views.conversation,
        name="lab_conversation",
    ),
    path("modules/<slug:module>/labs/<slug:slug>/new/", views.new_conversation, name="lab_new"),
    path("labs/instructor/", views.instructor, name="labs_instructor"),
]
