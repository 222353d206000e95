from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("course.urls")),
    path("", include("quizzes.urls")),
    path("", include("labs.urls")),
    path("", include("ops.urls")),
    path("admin/", admin.site.urls),
]
