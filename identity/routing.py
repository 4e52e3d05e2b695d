from django.urls import path

from identity.consumers import AuditFeedConsumer

websocket_urlpatterns = [
    path("ws/audit/<slug:slug>/", AuditFeedConsumer.as_asgi()),
]
