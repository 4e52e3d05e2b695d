"""WebSocket routes of every app, gathered in one place."""

from debates.routing import websocket_urlpatterns as debates_ws
from identity.routing import websocket_urlpatterns as identity_ws
from proposals.routing import websocket_urlpatterns as proposals_ws

websocket_urlpatterns = [*identity_ws, *proposals_ws, *debates_ws]
