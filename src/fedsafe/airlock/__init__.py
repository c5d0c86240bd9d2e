"""The airlock: a backend's release review. Researchers group moderately sensitive outputs into
release requests, automated disclosure checks annotate them, two output checkers who are not
the author review them, and approved files are uploaded to the coordinator. Every view,
download, vote, comment and state change goes to a hash-chained audit log.

The domain (this package minus ``web``) needs no Django, so it can be tested and used from the
command line without configuring a web app; ``fedsafe.airlock.web`` is the Django front end.
"""
