"""The exceptions fedsafe raises for people, as opposed to bugs.

Every error a researcher or operator can cause derives from ``FedsafeError`` so that the CLI can
print its message without a traceback. Messages name the file, line or field and say what was
expected instead.
"""


class FedsafeError(Exception):
    """An error caused by input, with a message written for the person who gave it."""


class DefinitionError(FedsafeError):
    """A dataset definition could not be loaded or is not valid."""


class DataSourceError(FedsafeError):
    """A data source (database URL, dummy tables folder) is missing or malformed."""


class OutputError(FedsafeError):
    """An output file could not be written."""
