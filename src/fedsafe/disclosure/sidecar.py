"""The sidecar file: a small JSON document beside an output saying what its columns are and
which disclosure rules were applied to them.

Producers that protect their outputs as they make them (measures, the safe helpers) write one,
so the output checker can recognise them as safe by construction and check that the values are
consistent with the rules recorded. Researchers may also write a minimal one by hand, giving
only ``columns``, to tell the checker which columns are counts instead of leaving it to guess.

Format (version 1)::

    {
      "fedsafe_disclosure": 1,
      "columns": {"numerator": "count", "denominator": "count", "ratio": "derived",
                  "region": "label"},
      "rules_applied": [...],      # optional; written by fedsafe, see RULE_NAMES
      "policy": {...}              # optional; the DisclosurePolicy the rules used
    }

Column kinds: ``count`` (numbers of patients or events), ``magnitude`` (sums of a quantity,
such as total cost), ``derived`` (computed only from protected columns of the same file, such as
a ratio), ``residual_df`` (a model's residual degrees of freedom), ``label`` (categories
and keys; not checked), ``order_statistic`` (a minimum, maximum, median or percentile over
patients), ``spread`` (an SD, IQR or range: 0 says every value in the group is the same),
``estimate`` (a model's coefficients, standard errors, p-values: checked through the sidecar's
``model`` object, :mod:`fedsafe.disclosure.models`).

Optional ``release`` (``{"filters": {...}}``: the population the table counts, read by the
release ledger, :mod:`fedsafe.disclosure.ledger`) and ``histogram`` (the bins and protected
counts behind an image, written by ``safe_histogram``; such a sidecar needs no ``columns``),
and ``model`` (a fitted model's observations, parameters and observations per category of
each categorical term, made by :func:`fedsafe.disclosure.models.describe_model`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fedsafe.disclosure.errors import OutputFileError
from fedsafe.disclosure.models import ModelDesign, parse_model_design

__all__ = [
    "COLUMN_KINDS",
    "RULE_NAMES",
    "SIDECAR_SUFFIX",
    "Sidecar",
    "read_sidecar",
    "sidecar_path",
    "write_sidecar",
]

SIDECAR_SUFFIX = ".disclosure.json"
FORMAT_KEY = "fedsafe_disclosure"
FORMAT_VERSION = 1
COLUMN_KINDS: tuple[str, ...] = (
    "count",
    "magnitude",
    "derived",
    "residual_df",
    "label",
    "order_statistic",
    "spread",
    "estimate",
)
RULE_NAMES: tuple[str, ...] = (
    "small_number_suppression",
    "rounding",
    "secondary_suppression",
    "derived_from_protected",
    "dominance",
    "order_statistic",
    "identical_values",
)
_TOP_KEYS = (FORMAT_KEY, "columns", "rules_applied", "policy", "release", "histogram", "model")


@dataclass(frozen=True)
class Sidecar:
    """A parsed sidecar: column kinds, and the rules fedsafe recorded (if any)."""

    columns: Mapping[str, str]
    rules_applied: tuple[Mapping[str, Any], ...] = ()
    policy: Mapping[str, Any] | None = None
    path: Path | None = field(default=None, compare=False)
    release: Mapping[str, Any] | None = None
    histogram: Mapping[str, Any] | None = None
    model: ModelDesign | None = None

    def rules_for(self, column: str) -> dict[str, Mapping[str, Any]]:
        """The recorded rules that name ``column``, by rule name."""
        return {r["rule"]: r for r in self.rules_applied if column in r.get("columns", ())}


def sidecar_path(output: Path | str) -> Path:
    """Where the sidecar of ``output`` lives: beside it, named ``<output>.disclosure.json``."""
    output = Path(output)
    return output.with_name(output.name + SIDECAR_SUFFIX)


def write_sidecar(output: Path | str, record: Mapping[str, Any]) -> Path:
    """Write ``record`` (for example from ``protect_measure_table``) as ``output``'s sidecar.

    The record is validated first, and written to a temporary file renamed into place, so a
    bad record or a crash never leaves a sidecar that claims protection the output lacks.
    """
    path = sidecar_path(output)
    document = {FORMAT_KEY: FORMAT_VERSION, **{k: v for k, v in record.items() if k != FORMAT_KEY}}
    parse_sidecar(document, path)
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path


def read_sidecar(output: Path | str) -> Sidecar | None:
    """The sidecar of ``output``, or None when it has none. Malformed sidecars raise."""
    path = sidecar_path(output)
    if not path.exists():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise OutputFileError(f"{path}: not valid JSON ({exc})") from None
    return parse_sidecar(document, path)


def parse_sidecar(document: object, path: Path) -> Sidecar:
    """Validate a sidecar document, naming the key that is wrong and what was expected."""
    if not isinstance(document, dict):
        raise OutputFileError(f"{path}: expected a JSON object, got {type(document).__name__}")
    unknown = sorted(k for k in document if k not in _TOP_KEYS)
    if unknown:
        raise OutputFileError(
            f"{path}: unknown key{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(k) for k in unknown)}; known keys are {', '.join(_TOP_KEYS)}"
        )
    version = document.get(FORMAT_KEY, FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise OutputFileError(
            f"{path}: {FORMAT_KEY} must be {FORMAT_VERSION} (the only format version), "
            f"got {version!r}"
        )
    columns = document.get("columns", {} if "histogram" in document else None)
    if not isinstance(columns, dict) or (not columns and "histogram" not in document):
        raise OutputFileError(
            f"{path}: 'columns' must be an object mapping column names to one of "
            f"{', '.join(COLUMN_KINDS)}"
        )
    for name, kind in columns.items():
        if kind not in COLUMN_KINDS:
            raise OutputFileError(
                f"{path}: column {name!r} has kind {kind!r}; expected one of "
                f"{', '.join(COLUMN_KINDS)}"
            )
    rules = document.get("rules_applied", [])
    if not isinstance(rules, list):
        raise OutputFileError(f"{path}: 'rules_applied' must be a list of rules")
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or rule.get("rule") not in RULE_NAMES:
            raise OutputFileError(
                f"{path}: rules_applied[{i}] must be an object whose 'rule' is one of "
                f"{', '.join(RULE_NAMES)}"
            )
        named = rule.get("columns", [])
        if not isinstance(named, list) or any(c not in columns for c in named):
            raise OutputFileError(
                f"{path}: rules_applied[{i}] 'columns' must list columns named in 'columns'"
            )
    for key in ("policy", "release", "histogram", "model"):
        if document.get(key) is not None and not isinstance(document[key], dict):
            raise OutputFileError(f"{path}: {key!r} must be an object")
    return Sidecar(
        columns=dict(columns),
        rules_applied=tuple(rules),
        policy=document.get("policy"),
        path=path,
        release=document.get("release"),
        histogram=document.get("histogram"),
        model=parse_model_design(document["model"], path) if "model" in document else None,
    )
