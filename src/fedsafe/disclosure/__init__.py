"""Statistical disclosure control: rules that make outputs safe, and a checker for outputs.

The rules read their parameters from a :class:`DisclosurePolicy` (a backend's ``[disclosure]``
settings). Producers apply them as outputs are made (``protect_counts``,
``protect_measure_table``, the safe helpers) and record what ran in a sidecar file beside the
output, so the checker can recognise the output as safe by construction. See
``docs/disclosure.md`` for the rules, defaults, algorithms and limits.
"""

from fedsafe.disclosure.counts import (
    is_possible_protected_count,
    protect_count,
    protect_counts,
    round_count,
)
from fedsafe.disclosure.errors import OutputFileError, PolicyError, TableError
from fedsafe.disclosure.measures import protect_measure_table
from fedsafe.disclosure.policy import DisclosurePolicy
from fedsafe.disclosure.sidecar import Sidecar, read_sidecar, sidecar_path, write_sidecar

__all__ = [
    "DisclosurePolicy",
    "OutputFileError",
    "PolicyError",
    "Sidecar",
    "TableError",
    "is_possible_protected_count",
    "protect_count",
    "protect_counts",
    "protect_measure_table",
    "read_sidecar",
    "round_count",
    "sidecar_path",
    "write_sidecar",
]
