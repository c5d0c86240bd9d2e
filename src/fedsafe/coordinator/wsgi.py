"""The WSGI entry point, for running the coordinator under any WSGI server."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fedsafe.coordinator.settings")
application = get_wsgi_application()
