from __future__ import annotations

from django.urls import path

from course.placeholder import not_built_yet

urlpatterns = [
    path("modules/<slug:module>/labs/<slug:slug>/", not_built_yet, name="lab"),
]
