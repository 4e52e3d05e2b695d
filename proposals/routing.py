from django.urls import path

from proposals.consumers import ProposalCountConsumer

websocket_urlpatterns = [
    path("ws/proposals/<int:proposal_id>/", ProposalCountConsumer.as_asgi()),
]
