"""Helpers for analysis scripts running in fedsafe's python:v1 runtime.

Installed into the runtime beside pandas and friends, so a script can ``import
fedsafe_analysis`` on a laptop and in a backend alike. It imports nothing from fedsafe, because
the runtime has only its locked packages.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["action_config", "read_dataset", "round_counts"]


def read_dataset(path: str | Path) -> Any:
    """Read a dataset written by ``generate-dataset`` (.csv, .csv.gz, .arrow, .feather or
    .parquet) into a pandas DataFrame, keeping the column types it was written with."""
    import pandas as pd

    name = str(path)
    if name.endswith((".arrow", ".feather")):
        import pyarrow.feather as feather

        return feather.read_table(name).to_pandas()
    if name.endswith(".parquet"):
        return pd.read_parquet(name)
    if name.endswith((".csv", ".csv.gz")):
        return pd.read_csv(name)
    raise ValueError(f"{name}: expected a .csv, .csv.gz, .arrow, .feather or .parquet file")


def action_config(argv: list[str] | None = None) -> dict[str, Any]:
    """The action's ``config:`` from project.yaml, passed as ``--config JSON`` ({} if none)."""
    args = sys.argv[1:] if argv is None else argv
    for index, arg in enumerate(args):
        if arg == "--config" and index + 1 < len(args):
            return dict(json.loads(args[index + 1]))
        if arg.startswith("--config="):
            return dict(json.loads(arg.split("=", 1)[1]))
    return {}


def round_counts(counts: Any, *, threshold: int = 7, base: int = 5) -> Any:
    """Counts made safer to release: values below ``threshold`` are hidden (None) and the
    rest rounded to the nearest ``base``, as output checkers usually ask."""
    import pandas as pd

    series = pd.Series(counts)
    rounded = (series / base).round().astype("Int64") * base
    return rounded.where(series >= threshold)
