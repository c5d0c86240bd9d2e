"""The airlock's Django app, labelled so it can never clash with the coordinator's apps."""

from django.apps import AppConfig


class AirlockWebConfig(AppConfig):
    name = "fedsafe.airlock.web"
    label = "fedsafe_airlock"
