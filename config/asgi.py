"""ASGI entry point: HTTP through Django, websockets through Channels."""

from __future__ import annotations

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django must be set up before the routing imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.origin import SameOriginValidator  # noqa: E402
from labs.routing import websocket_urlpatterns  # noqa: E402
from ops.correlation import WebsocketTelemetry  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(
            AuthMiddlewareStack(WebsocketTelemetry(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# What is loaded by now (Django, every app, the routing) lives as long as the process. A full
# garbage collection walks every tracked object, and while it runs the event loop, so every
# socket of the process, stands still: 110-130 ms at a time under the relay benchmark's load.
# Frozen objects are skipped: the same collections then take 5-25 ms.
gc.collect()
gc.freeze()
