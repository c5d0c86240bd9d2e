"""The automated output checker: is this table file safe to release under a policy?

For each column it decides what the column holds (from the file's sidecar if it has one,
otherwise from the values, and then every finding says the kind was inferred), applies the
checks for that kind, and reports findings with the row and column of each problem:

* count: small counts (fail), counts that are not rounded as the policy says (fail: the top
  two reasons OpenSAFELY's checkers send outputs back), suppressed cells in a table that also
  publishes totals without recorded secondary suppression (needs review);
* magnitude: dominance cannot be checked without the contributions, so it passes only when the
  sidecar records that the dominance rules were applied when it was made, else needs review;
* derived (a ratio of counts): must be null where a source count is suppressed, and for a
  recorded ``numerator / denominator`` must equal the ratio of the published counts;
* residual_df: at least the policy's minimum;
* numbers the checker cannot classify, and columns a sidecar calls labels that hold only
  numbers (a sidecar must not be a way to switch checks off): needs review.

Values are always checked against the checking policy; a sidecar never makes a file pass on
its word alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fedsafe.disclosure.counts import is_possible_protected_count
from fedsafe.disclosure.errors import OutputFileError
from fedsafe.disclosure.findings import FileReport, Finding, Status
from fedsafe.disclosure.policy import DisclosurePolicy
from fedsafe.disclosure.reading import Redacted, Table, is_small_marker, parse_number, read_table
from fedsafe.disclosure.sidecar import Sidecar, read_sidecar

__all__ = ["check_output_file", "check_output_files"]

_TOTAL_LABELS = frozenset({"total", "totals", "all", "overall", "sum"})
_RESIDUAL_DF_NAMES = frozenset({"df_resid", "residual_df", "df_residual", "resid_df"})
_STATISTIC_KINDS = frozenset({"count", "numeric", "residual_df"})  # numbers and nothing else
_INFERRED_NOTE = " (column kind inferred from its values; a sidecar can say what it holds)"


def check_output_files(paths: Iterable[Path], policy: DisclosurePolicy) -> list[FileReport]:
    """Check each file in turn (see :func:`check_output_file`)."""
    return [check_output_file(Path(p), policy) for p in paths]


def check_output_file(path: Path, policy: DisclosurePolicy) -> FileReport:
    """Findings for one output file. Unreadable files and sidecars raise OutputFileError."""
    path = Path(path)
    sidecar = read_sidecar(path)
    table = read_table(path)
    kinds = _column_kinds(table, sidecar)
    findings: list[Finding] = []
    for column, (kind, inferred) in kinds.items():
        values = [parse_number(v) for v in table.columns[column]]
        if (
            kind == "label"
            and not inferred
            and _infer_kind(column, table.columns[column]) in _STATISTIC_KINDS
        ):
            findings.append(
                _finding(
                    table,
                    Status.NEEDS_REVIEW,
                    "declared_label",
                    "the sidecar calls this column a label but it holds only numbers; a person "
                    "should confirm it is not a statistic",
                    column,
                    None,
                    inferred,
                )
            )
        check = _CHECKS.get(kind)
        if check is not None:
            findings.extend(check(table, column, values, policy, sidecar, inferred, kinds))
    if not findings:
        findings.append(
            Finding(Status.PASS, "no_statistics", "no counts or other statistics to check")
        )
    return FileReport(path, tuple(findings))


def _column_kinds(table: Table, sidecar: Sidecar | None) -> dict[str, tuple[str, bool]]:
    declared = dict(sidecar.columns) if sidecar else {}
    missing = sorted(set(declared) - set(table.columns))
    if missing:
        assert sidecar is not None
        raise OutputFileError(
            f"{sidecar.path}: names column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(m) for m in missing)} that {table.path} does not have; its "
            f"columns are {', '.join(table.columns)}"
        )
    kinds: dict[str, tuple[str, bool]] = {}
    for column, raw in table.columns.items():
        if column in declared:
            kind = declared[column]
            if kind in ("count", "residual_df"):
                _require_whole_numbers(table, column, raw)
            kinds[column] = (kind, False)
        else:
            kinds[column] = (_infer_kind(column, raw), True)
    return kinds


def _infer_kind(column: str, raw: Sequence[object]) -> str:
    values = [parse_number(v) for v in raw]
    numbers = [v for v in values if isinstance(v, int | float)]
    texts = [v for v in values if isinstance(v, str)]
    if not numbers:
        return "label"
    if texts and not all(is_small_marker(t) for t in texts):
        return "mixed"
    whole = all(float(v).is_integer() for v in numbers)
    if column.lower() in _RESIDUAL_DF_NAMES and whole:
        return "residual_df"
    if whole and all(v >= 0 for v in numbers):
        return "count"
    return "numeric"


def _require_whole_numbers(table: Table, column: str, raw: Sequence[object]) -> None:
    for index, value in enumerate(raw):
        parsed = parse_number(value)
        if isinstance(parsed, Redacted) or is_small_marker(parsed):
            continue
        if not isinstance(parsed, int | float) or not float(parsed).is_integer() or parsed < 0:
            line = table.line_of(index)
            where = f"line {line}" if line is not None else f"row {index + 1}"
            raise OutputFileError(
                f"{table.path}, {where}, column {column!r}: expected a whole number >= 0 "
                f"(the sidecar says this column holds counts), got {value!r}"
            )


def _finding(
    table: Table,
    status: Status,
    rule: str,
    reason: str,
    column: str,
    index: int | None,
    inferred: bool,
) -> Finding:
    return Finding(
        status,
        rule,
        reason + (_INFERRED_NOTE if inferred else ""),
        column=column,
        row=None if index is None else index + 1,
        line=None if index is None else table.line_of(index),
        inferred=inferred,
    )


def _check_counts(table, column, values, policy, sidecar, inferred, kinds) -> list[Finding]:
    findings: list[Finding] = []
    suppressed = 0
    for index, value in enumerate(values):
        if isinstance(value, Redacted):
            suppressed += 1
            continue
        if is_small_marker(value):
            findings.append(
                _finding(
                    table,
                    Status.NEEDS_REVIEW,
                    "small_number_suppression",
                    f"{value!r} publishes a range of small counts; redact the cell instead",
                    column,
                    index,
                    inferred,
                )
            )
            suppressed += 1
            continue
        count = int(value)
        if is_possible_protected_count(count, policy):
            # What the rules can publish, even at or below the threshold: under threshold 10
            # and base 10, 10 is what 11-14 round to.
            continue
        if count <= policy.suppress_at_or_below or count == 0:
            findings.append(
                _finding(
                    table,
                    Status.FAIL,
                    "small_number_suppression",
                    f"count {count} is at or below {policy.suppress_at_or_below} and not redacted",
                    column,
                    index,
                    inferred,
                )
            )
        else:
            how = (
                f"to the nearest {policy.base}"
                if policy.rounding == "nearest"
                else f"to midpoint {policy.base}"
            )
            findings.append(
                _finding(
                    table,
                    Status.FAIL,
                    "rounding",
                    f"count {count} is not rounded {how}",
                    column,
                    index,
                    inferred,
                )
            )
    recorded = sidecar.rules_for(column) if sidecar else {}
    if suppressed and "secondary_suppression" not in recorded:
        totals = _totals_in(table, kinds)
        if totals:
            findings.append(
                _finding(
                    table,
                    Status.NEEDS_REVIEW,
                    "secondary_suppression",
                    f"{suppressed} cell(s) are suppressed and the table seems to publish totals "
                    f"({totals}); check they cannot be recovered by differencing, or make the "
                    "table with fedsafe's safe crosstab",
                    column,
                    None,
                    inferred,
                )
            )
    if not findings:
        how = "recorded in its sidecar and verified" if recorded else "verified"
        findings.append(
            _finding(
                table,
                Status.PASS,
                "counts",
                f"{len(values)} values, {suppressed} suppressed: no small or unrounded counts "
                f"({how})",
                column,
                None,
                inferred,
            )
        )
    return findings


def _totals_in(table: Table, kinds: Mapping[str, tuple[str, bool]]) -> str:
    """Where the table seems to publish totals: a column or a label named like a total."""
    for column in table.columns:
        if "total" in column.lower():
            return f"column {column!r}"
    for column, (kind, _) in kinds.items():
        if kind != "label":
            continue
        for index, value in enumerate(table.columns[column]):
            if isinstance(value, str) and value.strip().lower() in _TOTAL_LABELS:
                return f"row {index + 1} of column {column!r} is {value!r}"
    return ""


def _check_magnitude(table, column, values, policy, sidecar, inferred, kinds) -> list[Finding]:
    recorded = sidecar.rules_for(column) if sidecar else {}
    if "dominance" in recorded:
        return [
            _finding(
                table,
                Status.PASS,
                "dominance",
                "threshold, (n, k) and p% rules were applied when the table was made (recorded in "
                "its sidecar)",
                column,
                None,
                inferred,
            )
        ]
    return [
        _finding(
            table,
            Status.NEEDS_REVIEW,
            "dominance",
            "magnitude values: the dominance rules need each cell's contributions, which the file "
            "does not have; make the table with fedsafe's safe summary table, or review by hand",
            column,
            None,
            inferred,
        )
    ]


def _check_derived(table, column, values, policy, sidecar, inferred, kinds) -> list[Finding]:
    rule = (sidecar.rules_for(column) if sidecar else {}).get("derived_from_protected")
    if rule is None:
        return [
            _finding(
                table,
                Status.NEEDS_REVIEW,
                "derived",
                "derived values with no record of the columns they come from",
                column,
                None,
                inferred,
            )
        ]
    sources = list(rule.get("from", []))
    not_counts = [s for s in sources if kinds.get(s, ("", False))[0] != "count"]
    if not_counts or not sources:
        return [
            _finding(
                table,
                Status.NEEDS_REVIEW,
                "derived",
                f"derived from {', '.join(map(repr, not_counts)) or 'nothing'}, which this file "
                "does not publish as counts",
                column,
                None,
                inferred,
            )
        ]
    source_values = [[parse_number(v) for v in table.columns[s]] for s in sources]
    findings = []
    for index, value in enumerate(values):
        if isinstance(value, Redacted):
            continue
        inputs = [column_values[index] for column_values in source_values]
        if any(isinstance(v, Redacted) for v in inputs):
            findings.append(
                _finding(
                    table,
                    Status.FAIL,
                    "derived",
                    f"value {value!r} is published although a count it is derived from is "
                    "suppressed",
                    column,
                    index,
                    inferred,
                )
            )
        elif rule.get("how") == "numerator / denominator" and len(inputs) == 2:
            numerator, denominator = (float(v) for v in inputs)  # type: ignore[arg-type]
            expected = numerator / denominator if denominator else math.nan
            if not (isinstance(value, int | float) and math.isclose(value, expected)):
                findings.append(
                    _finding(
                        table,
                        Status.FAIL,
                        "derived",
                        f"ratio {value!r} is not {sources[0]} / {sources[1]} of the published "
                        "counts, so it may come from the unprotected ones",
                        column,
                        index,
                        inferred,
                    )
                )
    return findings or [
        _finding(
            table,
            Status.PASS,
            "derived",
            f"computed from the protected columns {', '.join(map(repr, sources))}",
            column,
            None,
            inferred,
        )
    ]


def _check_residual_df(table, column, values, policy, sidecar, inferred, kinds) -> list[Finding]:
    findings = [
        _finding(
            table,
            Status.FAIL,
            "residual_degrees_of_freedom",
            f"{int(v)} residual degrees of freedom; the policy needs at least "
            f"{policy.min_residual_df}",
            column,
            index,
            inferred,
        )
        for index, v in enumerate(values)
        if isinstance(v, int | float) and v < policy.min_residual_df
    ]
    return findings or [
        _finding(
            table,
            Status.PASS,
            "residual_degrees_of_freedom",
            f"all at least {policy.min_residual_df}",
            column,
            None,
            inferred,
        )
    ]


def _check_unclassified(table, column, values, policy, sidecar, inferred, kinds) -> list[Finding]:
    what = (
        "mixes numbers and text"
        if kinds[column][0] == "mixed"
        else "holds numbers that are not counts (fractions or negatives)"
    )
    return [
        _finding(
            table,
            Status.NEEDS_REVIEW,
            "unclassified",
            f"column {what}: it may be a magnitude, a rate or a model estimate; say what it holds "
            "in a sidecar or review by hand",
            column,
            None,
            inferred,
        )
    ]


_CHECKS: dict[str, Any] = {
    "count": _check_counts,
    "magnitude": _check_magnitude,
    "derived": _check_derived,
    "residual_df": _check_residual_df,
    "numeric": _check_unclassified,
    "mixed": _check_unclassified,
}
