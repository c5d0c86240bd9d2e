"""The airlock's web front end (Django). Views only translate HTTP to calls on
:class:`fedsafe.airlock.service.Airlock` and back: no rule is decided here."""
