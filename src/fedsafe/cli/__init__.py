"""The ``fedsafe`` command line."""
