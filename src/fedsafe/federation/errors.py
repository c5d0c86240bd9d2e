"""The errors the combine step raises for people who gave it bad input.

Each derives from ``FedsafeError`` so the CLI prints its message without a traceback, and each
message names the file (and, inside a file, the line and column) that is wrong.
"""

from fedsafe.errors import FedsafeError


class CombineError(FedsafeError):
    """The combine step cannot run on what it was given; nothing was written."""


class EstimatesFileError(CombineError):
    """An estimates file does not follow the documented format."""


class ReleasedFilesError(CombineError):
    """The folder of released files is not laid out as ``<backend>/<files>``, or its files
    disagree across backends (different columns for the same file, ...)."""
