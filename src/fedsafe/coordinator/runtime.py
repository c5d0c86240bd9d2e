"""Starting Django for one database URL, from the CLI or a test, and serving it over HTTP."""

from __future__ import annotations

import os
import sys

from fedsafe.coordinator.dburl import database_settings

__all__ = ["configure", "serve"]


def configure(
    database_url: str, lease_seconds: int | None = None, data_dir: str | None = None
) -> None:
    """Point Django at ``database_url`` (and released files at ``data_dir``) and bring its
    tables up to date.

    The URL is checked first, so a malformed one is refused before anything is created.
    """
    database_settings(database_url)
    os.environ["FEDSAFE_COORDINATOR_DATABASE"] = database_url
    if data_dir:
        os.environ["FEDSAFE_COORDINATOR_DATA_DIR"] = data_dir
    if lease_seconds is not None:
        os.environ["FEDSAFE_COORDINATOR_LEASE_SECONDS"] = str(lease_seconds)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fedsafe.coordinator.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def serve(host: str, port: int) -> None:
    """Serve the coordinator with Django's threaded WSGI server until killed.

    Prints ``listening on http://HOST:PORT`` once the socket is bound (with ``port`` 0 the
    system picks a free one), so scripts and tests know when and where to connect. In
    production put it behind a TLS-terminating proxy, or run ``fedsafe.coordinator.wsgi``
    under a WSGI server of your choice.
    """
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadedWSGIServer((host, port), QuietHandler, ipv6=":" in host)
    httpd.daemon_threads = True
    httpd.set_app(StaticFilesHandler(get_wsgi_application()))
    print(f"listening on http://{host}:{httpd.server_port}", file=sys.stderr, flush=True)
    httpd.serve_forever()
