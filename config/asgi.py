"""ASGI entry point: HTTP through Django, WebSockets through Channels (served by uvicorn)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.lean_path import lean_path  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402
from proposals.lean import sign_routes  # noqa: E402
from voting.asgi import cast_routes  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Token-authenticated ballot casts and online signatures take lean paths
        # (config/lean_path.py, voting/asgi.py, proposals/lean.py); all else is Django.
        "http": lean_path(django_asgi_app, [*cast_routes(), *sign_routes()]),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
