from __future__ import annotations

from django.urls import path

from course.placeholder import not_built_yet

urlpatterns = [
    path("modules/<slug:module>/quizzes/<slug:slug>/", not_built_yet, name="quiz"),
    path("modules/<slug:module>/test/", not_built_yet, name="module_test"),
    path("progress/", not_built_yet, name="progress"),
]
