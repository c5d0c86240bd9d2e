"""Combining outputs released by several backends into one answer.

This package only ever sees released files (``RELEASED_DIR/<backend>/<files>``): it imports no
engine, backend, loader or dummy data, which an import-linter contract checks. The entry point
for the command line, the local pipeline and the coordinator alike is :func:`combine_released`.
See ``docs/federation.md`` for the file formats and methods.
"""

from fedsafe.federation.combine import CombineReport, combine_released
from fedsafe.federation.errors import CombineError, EstimatesFileError, ReleasedFilesError
from fedsafe.federation.estimates import EstimatesFile, read_estimates
from fedsafe.federation.meta import MetaResult, meta_analyse, proportion_effects

__all__ = [
    "CombineError",
    "CombineReport",
    "EstimatesFile",
    "EstimatesFileError",
    "MetaResult",
    "ReleasedFilesError",
    "combine_released",
    "meta_analyse",
    "proportion_effects",
    "read_estimates",
]
