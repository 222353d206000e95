from __future__ import annotations

from django.urls import path

from quizzes import reports, views

urlpatterns = [
    path("modules/<slug:module>/quizzes/<slug:slug>/", views.quiz, name="quiz"),
    path(
        "modules/<slug:module>/quizzes/<slug:slug>/retake/", views.quiz_retake, name="quiz_retake"
    ),
    path("modules/<slug:module>/test/", views.module_test, name="module_test"),
    path("modules/<slug:module>/test/start/", views.module_test_start, name="module_test_start"),
    path("modules/<slug:module>/test/save/", views.module_test_save, name="module_test_save"),
    path("modules/<slug:module>/test/submit/", views.module_test_submit, name="module_test_submit"),
    path(
        "modules/<slug:module>/test/attempts/<int:attempt>/",
        views.module_test_result,
        name="module_test_result",
    ),
    path("progress/", reports.progress, name="progress"),
    path("analytics/", reports.analytics, name="analytics"),
    path("analytics/<slug:module>/attempts.csv", reports.attempts_csv, name="analytics_csv"),
]
