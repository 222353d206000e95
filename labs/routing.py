from __future__ import annotations

from typing import Any

from django.urls import path

from labs.consumers import LabChatConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/labs/conversations/<int:conversation>/", LabChatConsumer.as_asgi()),
]
