"""Django's record of the coordinator app."""

from django.apps import AppConfig


class CoordinatorConfig(AppConfig):
    name = "fedsafe.coordinator"
    label = "coordinator"
    verbose_name = "fedsafe coordinator"
