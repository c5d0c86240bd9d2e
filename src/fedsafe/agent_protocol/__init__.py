"""What the coordinator and a backend's agent say to each other over HTTP.

Both sides import this package and neither is imported by it, so the wire contract (job states,
their allowed transitions, the shape of a report) lives in one place that knows no web framework
and no database.
"""
