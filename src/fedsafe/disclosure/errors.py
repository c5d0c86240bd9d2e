"""The errors statistical disclosure control raises for people who gave it bad input.

They live here rather than in ``fedsafe.errors`` so that this package stays self-contained; each
derives from ``FedsafeError`` so the CLI prints its message without a traceback.
"""

from fedsafe.errors import FedsafeError


class PolicyError(FedsafeError):
    """A disclosure policy (for example a backend's ``[disclosure]`` table) is not valid."""


class TableError(FedsafeError):
    """Values given to a protection rule are not what the rule can protect (not counts, ...)."""


class OutputFileError(FedsafeError):
    """An output file or its sidecar cannot be read or checked as it stands."""


class LedgerError(FedsafeError):
    """The release ledger cannot be used: it is not a ledger, or its hash chain is broken."""
