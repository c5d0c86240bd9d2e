"""A project's codelists: ``codelists/codelists.txt``, ``codelists/codelists.json``, checks."""
