"""Mounted at ``/federation/v1/`` by ``tongban.config.urls``."""

from django.urls import path

from tongban.exchange import receiver

app_name = "federation"

urlpatterns = [
    path("envelopes", receiver.envelopes, name="envelopes"),
    path("health", receiver.health, name="health"),
]
