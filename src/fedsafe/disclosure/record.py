"""The JSON-able record of which rules ran, written into an output's sidecar.

Kept in one place so the producers (measures, safe helpers) and the checker agree on the
shape: each rule names the columns it covered and the parameters it used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fedsafe.disclosure.errors import TableError
from fedsafe.disclosure.policy import DisclosurePolicy
from fedsafe.errors import FedsafeError

__all__ = ["count_rules", "derived_rule", "make_record", "secondary_rule"]


def count_rules(columns: Sequence[str], policy: DisclosurePolicy) -> list[dict[str, Any]]:
    """The suppression and rounding rules :func:`protect_counts` applies to ``columns``."""
    rules: list[dict[str, Any]] = [
        {
            "rule": "small_number_suppression",
            "columns": list(columns),
            "suppress_at_or_below": policy.suppress_at_or_below,
            "suppress_zero": policy.suppress_zero,
            "allow_zero_cells": policy.allow_zero_cells,
            "allow_full_cells": policy.allow_full_cells,
        }
    ]
    if policy.rounding != "none":
        rules.append(
            {
                "rule": "rounding",
                "columns": list(columns),
                "method": policy.rounding,
                "base": policy.base,
            }
        )
    return rules


def secondary_rule(columns: Sequence[str], suppressed_cells: int) -> dict[str, Any]:
    """Secondary suppression over a table whose totals are published."""
    return {
        "rule": "secondary_suppression",
        "columns": list(columns),
        "algorithm": "shortest-path complementary suppression (see docs/disclosure.md)",
        "complementary_cells": suppressed_cells,
    }


def derived_rule(column: str, sources: Sequence[str], how: str) -> dict[str, Any]:
    """A column computed only from protected columns of the same output."""
    return {
        "rule": "derived_from_protected",
        "columns": [column],
        "from": list(sources),
        "how": how,
    }


def make_record(
    columns: Mapping[str, str],
    rules: Sequence[Mapping[str, Any]],
    policy: DisclosurePolicy,
    filters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A complete sidecar record: column kinds, rules applied, and the policy they used; with
    ``filters``, the population the table counts, for the release ledger (validated here, so a
    helper never writes filters the ledger cannot read)."""
    record: dict[str, Any] = {
        "columns": dict(columns),
        "rules_applied": [dict(r) for r in rules],
        "policy": policy.to_dict(),
    }
    if filters is not None:
        from fedsafe.disclosure.released import parse_filter

        if not isinstance(filters, Mapping):
            raise TableError(f"filters: expected a mapping of attribute to values, got {filters!r}")
        for name, value in filters.items():
            try:
                parse_filter(value, where=f"filters, {name!r}")
            except FedsafeError as exc:
                raise TableError(str(exc)) from None
        record["release"] = {"filters": {str(k): v for k, v in filters.items()}}
    return record
