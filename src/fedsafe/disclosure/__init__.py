"""Statistical disclosure control: rules that make outputs safe, and a checker for outputs.

The rules read their parameters from a :class:`DisclosurePolicy` (a backend's ``[disclosure]``
settings). Producers apply them as outputs are made (``protect_counts``,
``protect_measure_table``, ``protect_crosstab``, the helpers in ``fedsafe.disclosure.safe``)
and record what ran in a sidecar file beside the output, so the checker
(``check_output_file``) can recognise the output as safe by construction. See
``docs/disclosure.md`` for the rules, defaults, algorithms and limits.
"""

from fedsafe.disclosure.checker import check_output_file, output_files_in
from fedsafe.disclosure.counts import (
    is_possible_protected_count,
    protect_count,
    protect_counts,
    round_count,
)
from fedsafe.disclosure.crosstab import ProtectedCrosstab, protect_crosstab, protect_with_total
from fedsafe.disclosure.errors import OutputFileError, PolicyError, TableError
from fedsafe.disclosure.findings import FileReport, Finding, Status
from fedsafe.disclosure.magnitude import MagnitudeVerdict, check_magnitude_cell
from fedsafe.disclosure.measures import protect_measure_table
from fedsafe.disclosure.models import describe_model, describe_model_size, residual_df_problem
from fedsafe.disclosure.policy import DisclosurePolicy
from fedsafe.disclosure.sidecar import Sidecar, read_sidecar, sidecar_path, write_sidecar

__all__ = [
    "DisclosurePolicy",
    "FileReport",
    "Finding",
    "MagnitudeVerdict",
    "OutputFileError",
    "PolicyError",
    "ProtectedCrosstab",
    "Sidecar",
    "Status",
    "TableError",
    "check_magnitude_cell",
    "check_output_file",
    "describe_model",
    "describe_model_size",
    "is_possible_protected_count",
    "output_files_in",
    "protect_count",
    "protect_counts",
    "protect_crosstab",
    "protect_measure_table",
    "protect_with_total",
    "read_sidecar",
    "residual_df_problem",
    "round_count",
    "sidecar_path",
    "write_sidecar",
]
