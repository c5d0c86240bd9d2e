"""``python -m fedsafe.cli``: the fedsafe command, for running it from a known interpreter."""

from fedsafe.cli.main import app

app(prog_name="fedsafe")
