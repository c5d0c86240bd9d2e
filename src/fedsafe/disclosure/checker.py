"""The automated output checker: is this table file safe to release under a policy?

For each column it decides what the column holds (from the file's sidecar if it has one,
otherwise from the values, and then every finding says the kind was inferred), applies the
checks for that kind, and reports findings with the row and column of each problem:

* count: small counts (fail), counts that are not rounded as the policy says (fail: the top
  two reasons OpenSAFELY's checkers send outputs back);
* suppressed cells that the table's own totals give away (fail), worked out from the pattern of
  suppressed cells (:mod:`fedsafe.disclosure.differencing`); a table with totals the checker
  cannot read as rows x columns needs review;
* magnitude: dominance cannot be checked without the contributions, so it passes only when the
  sidecar records that the dominance rules were applied when it was made, else needs review;
* derived (a ratio of counts): must be null where a source count is suppressed, and for a
  recorded ``numerator / denominator`` must equal the ratio of the published counts;
* residual_df: at least the policy's minimum;
* model outputs (a sidecar ``model`` object, or columns of kind ``estimate`` or
  ``residual_df``): residual degrees of freedom, observations per parameter and observations
  in each category of the design (:mod:`fedsafe.disclosure.models`); a model output without a
  ``model`` object needs review, since its design cannot be checked;
* numbers the checker cannot classify, and columns a sidecar calls labels that hold only
  numbers (a sidecar must not be a way to switch checks off): needs review.

Values are always checked against the checking policy; a sidecar never makes a file pass on
its word alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from fedsafe.disclosure.counts import is_possible_protected_count
from fedsafe.disclosure.differencing import TOTAL_NAMES, recoverable_cells, table_shape
from fedsafe.disclosure.errors import OutputFileError
from fedsafe.disclosure.findings import FileReport, Finding, Status
from fedsafe.disclosure.full_cells import full_cells
from fedsafe.disclosure.histogram import IMAGE_SUFFIXES, histogram_table, parse_histogram
from fedsafe.disclosure.models import model_problems
from fedsafe.disclosure.order_checks import (
    check_identical_values,
    check_order_statistic,
    check_spread,
)
from fedsafe.disclosure.order_statistics import order_statistic_named, spread_named
from fedsafe.disclosure.policy import DisclosurePolicy
from fedsafe.disclosure.reading import (
    TABLE_SUFFIXES,
    Redacted,
    Table,
    is_small_marker,
    is_table_file,
    parse_number,
    read_table,
)
from fedsafe.disclosure.sidecar import SIDECAR_SUFFIX, Sidecar, read_sidecar

__all__ = ["check_output_file", "column_kinds", "output_files_in"]

_RESIDUAL_DF_NAMES = frozenset({"df_resid", "residual_df", "df_residual", "resid_df"})
_NUMBERS_ONLY = frozenset(
    {"count", "numeric", "residual_df", "order_statistic", "spread"}
)  # inferred kinds with no text
_MODEL_KINDS = frozenset({"estimate", "residual_df"})
_INFERRED_NOTE = " (column kind inferred from its values; a sidecar can say what it holds)"


def output_files_in(paths: Iterable[Path]) -> list[Path]:
    """The files to check: each path given, with folders replaced by every file inside them
    (sorted, hidden files and sidecars left out, since a sidecar is read with its output)."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and not p.name.endswith(SIDECAR_SUFFIX)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            files.append(path)
    return files


def check_output_file(path: Path, policy: DisclosurePolicy) -> FileReport:
    """Findings for one output file. Unreadable tables and sidecars raise OutputFileError;
    files that are not tables (images, logs) need review by a person."""
    path = Path(path)
    if path.is_file() and path.name.lower().endswith(IMAGE_SUFFIXES):
        image_sidecar = read_sidecar(path)
        if image_sidecar is not None and image_sidecar.histogram is not None:
            return _check_histogram(path, image_sidecar, policy)
    if path.is_file() and not is_table_file(path):
        return FileReport(
            path,
            (
                Finding(
                    Status.NEEDS_REVIEW,
                    "not_a_table",
                    f"fedsafe checks only tables ({', '.join(TABLE_SUFFIXES)}); a person "
                    "must review this file",
                ),
            ),
        )
    sidecar = read_sidecar(path)
    table = read_table(path)
    kinds = column_kinds(table, sidecar)
    findings: list[Finding] = []
    rows = len(next(iter(table.columns.values()), []))
    if rows == 0:
        findings.append(
            Finding(
                Status.NEEDS_REVIEW,
                "empty_table",
                "the table has a header but no rows: there is nothing to check, and an empty "
                "result can itself tell something (no patient matched); a person must review it",
            )
        )
    for column, (kind, inferred) in kinds.items():
        context = Column(table, column, policy, sidecar, inferred, kinds)
        if inferred and rows and all(isinstance(v, Redacted) for v in context.values):
            # Declared in a sidecar, a withheld column is the helper's doing and is checked as
            # such; undeclared, nothing says what the column holds.
            findings.append(
                context.finding(
                    Status.NEEDS_REVIEW,
                    "all_missing",
                    "every value of this column is missing or redacted and no sidecar says "
                    "what it holds, so it cannot be checked; remove it, or a person must review it",
                )
            )
        if not inferred and kind == "label" and _infer_kind(column, context.raw) in _NUMBERS_ONLY:
            findings.append(
                context.finding(
                    Status.NEEDS_REVIEW,
                    "declared_label",
                    "the sidecar calls this column a label but it holds only numbers; a person "
                    "should confirm it is not a statistic",
                )
            )
        check = _CHECKS.get(kind)
        if check is not None:
            findings.extend(check(context))
        findings.extend(check_identical_values(context))
    findings.extend(_check_model(sidecar, kinds, policy))
    findings.extend(_check_differencing(table, kinds))
    if not policy.allow_full_cells:
        findings.extend(full_cells(table, kinds))
    if not findings:
        findings.append(
            Finding(
                Status.NEEDS_REVIEW,
                "no_statistics",
                "no column is declared (sidecar) or recognised as a count or other statistic, "
                "so the checker cannot tell what this table discloses; a person must review it",
            )
        )
    return FileReport(path, tuple(findings))


def _check_histogram(path: Path, sidecar: Sidecar, policy: DisclosurePolicy) -> FileReport:
    """A chart checked as the table of its bins: each count as a count, and its edges."""
    assert sidecar.histogram is not None
    histogram = parse_histogram(sidecar.histogram, sidecar.path or path)
    table = histogram_table(path, histogram)
    kinds = {"bin": ("label", False), "count": ("count", False)}
    findings = _check_counts(Column(table, "count", policy, sidecar, False, kinds))
    if histogram.extremes_on_edges:
        findings.append(
            Finding(
                Status.FAIL,
                "histogram_edges",
                "a bin edge is the data's raw minimum or maximum, which publishes a patient's "
                "value; use round edges outside the data",
            )
        )
    return FileReport(path, tuple(findings))


@dataclass(frozen=True)
class Column:
    """One column being checked, with what every check needs to know about its file."""

    table: Table
    name: str
    policy: DisclosurePolicy
    sidecar: Sidecar | None
    inferred: bool
    kinds: Mapping[str, tuple[str, bool]]

    @property
    def raw(self) -> list[object]:
        return self.table.columns[self.name]

    @cached_property
    def values(self) -> list[object]:
        return [parse_number(v) for v in self.raw]

    @property
    def recorded(self) -> dict[str, Mapping[str, Any]]:
        """Rules the sidecar records for this column, by rule name."""
        return self.sidecar.rules_for(self.name) if self.sidecar else {}

    def group(self, index: int) -> str:
        """The group a row describes, from its label columns (``sex='F', age='65+'``)."""
        labels = [c for c, (kind, _) in self.kinds.items() if kind == "label"]
        return ", ".join(f"{c}={self.table.columns[c][index]!r}" for c in labels) or (
            f"row {index + 1}"
        )

    def finding(self, status: Status, rule: str, reason: str, index: int | None = None):
        """A finding about this column, or one of its cells (``index`` counts from 0)."""
        return Finding(
            status,
            rule,
            reason + (_INFERRED_NOTE if self.inferred else ""),
            column=self.name,
            row=None if index is None else index + 1,
            line=None if index is None else self.table.line_of(index),
            inferred=self.inferred,
        )


def column_kinds(table: Table, sidecar: Sidecar | None) -> dict[str, tuple[str, bool]]:
    """Each column's kind and whether it was inferred (True) rather than declared."""
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
    if order_statistic_named(column):
        return "order_statistic"
    if spread_named(column):
        return "spread"
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


def _check_counts(col: Column) -> list[Finding]:
    policy, findings, suppressed = col.policy, [], 0
    for index, value in enumerate(col.values):
        if isinstance(value, Redacted):
            suppressed += 1
        elif is_small_marker(value):
            suppressed += 1
            findings.append(
                col.finding(
                    Status.NEEDS_REVIEW,
                    "small_number_suppression",
                    f"{value!r} publishes a range of small counts; redact the cell instead",
                    index,
                )
            )
        elif value == 0 and not policy.allow_zero_cells:
            findings.append(
                col.finding(
                    Status.FAIL,
                    "zero_cell",
                    "a zero cell is class disclosure (it says no one in this group has the "
                    "attribute); redact it, or allow zero cells in the policy where zeros are "
                    "structural",
                    index,
                )
            )
        elif is_possible_protected_count(int(value), policy):  # type: ignore[arg-type]
            # What the rules can publish, even at or below the threshold: under threshold 10
            # and base 10, 10 is what 11-14 round to.
            continue
        elif int(value) <= policy.suppress_at_or_below or value == 0:  # type: ignore[arg-type]
            findings.append(
                col.finding(
                    Status.FAIL,
                    "small_number_suppression",
                    f"count {int(value)} is at or below {policy.suppress_at_or_below} and not "
                    "redacted",
                    index,
                )
            )
        else:
            how = "to the nearest" if policy.rounding == "nearest" else "to midpoint"
            findings.append(
                col.finding(
                    Status.FAIL,
                    "rounding",
                    f"count {int(value)} is not rounded {how} {policy.base}",
                    index,
                )
            )
    if not findings:
        how = "recorded in its sidecar and verified" if col.recorded else "verified"
        findings.append(
            col.finding(
                Status.PASS,
                "counts",
                f"{len(col.values)} values, {suppressed} suppressed: no small or unrounded counts "
                f"({how})",
            )
        )
    return findings


def _check_differencing(table: Table, kinds: Mapping[str, tuple[str, bool]]) -> list[Finding]:
    """Suppressed cells that published totals give away (fail), checked from the file alone;
    for a table with totals the checker cannot read as rows x columns, a person must look."""
    hidden = {
        (index, column)
        for column, (kind, _) in kinds.items()
        if kind == "count"
        for index, value in enumerate(table.columns[column])
        if isinstance(parse_number(value), Redacted) or is_small_marker(parse_number(value))
    }
    if not hidden:
        return []
    shape = table_shape(table.columns, {c: kind for c, (kind, _) in kinds.items()})
    inferred = any(inferred for _, inferred in kinds.values())
    note = _INFERRED_NOTE if inferred else ""
    if shape is None:
        totals = _named_like_totals(table, kinds)
        if not totals:
            return []
        return [
            Finding(
                Status.NEEDS_REVIEW,
                "secondary_suppression",
                f"{len(hidden)} cell(s) are suppressed and the table seems to publish totals "
                f"({totals}) but is not a plain rows x columns table fedsafe can analyse; check "
                "the suppressed cells cannot be recovered by differencing" + note,
                inferred=inferred,
            )
        ]
    if shape.total_row is None and shape.total_column is None:
        return []
    if not shape.body_rows or not shape.body_columns:
        # Totals of nothing (an empty table): the missing rows already say there is no one.
        return []
    findings = [
        Finding(
            Status.FAIL,
            "secondary_suppression",
            "suppressed cell can be recovered from the published totals by differencing (to "
            "within their rounding); "
            "suppress more cells (fedsafe's safe crosstab does)" + note,
            column=column,
            row=index + 1,
            line=table.line_of(index),
            inferred=inferred,
        )
        for index, column in recoverable_cells(shape, hidden)
    ]
    return findings or [
        Finding(
            Status.PASS,
            "secondary_suppression",
            f"none of the {len(hidden)} suppressed cell(s) can be recovered from the totals "
            "(checked from the pattern of suppressed cells, assuming rows and columns add up to "
            "their totals)" + note,
            inferred=inferred,
        )
    ]


def _named_like_totals(table: Table, kinds: Mapping[str, tuple[str, bool]]) -> str:
    """Where a table seems to publish totals: a column or a row label named like a total."""
    for column in table.columns:
        if "total" in column.lower():
            return f"column {column!r}"
    for column, (kind, _) in kinds.items():
        for index, value in enumerate(table.columns[column]):
            if kind == "label" and isinstance(value, str) and value.strip().lower() in TOTAL_NAMES:
                return f"row {index + 1} of column {column!r} is {value!r}"
    return ""


def _check_magnitude(col: Column) -> list[Finding]:
    if "dominance" in col.recorded:
        return [
            col.finding(
                Status.PASS,
                "dominance",
                "threshold, (n, k) and p% rules were applied when the table was made (recorded in "
                "its sidecar)",
            )
        ]
    return [
        col.finding(
            Status.NEEDS_REVIEW,
            "dominance",
            "magnitude values: the dominance rules need each cell's contributions, which the file "
            "does not have; make the table with fedsafe's safe summary table, or review by hand",
        )
    ]


def _check_derived(col: Column) -> list[Finding]:
    rule = col.recorded.get("derived_from_protected")
    if rule is None:
        return [
            col.finding(
                Status.NEEDS_REVIEW,
                "derived",
                "derived values with no record of the columns they come from",
            )
        ]
    sources = list(rule.get("from", []))
    not_counts = [s for s in sources if col.kinds.get(s, ("", False))[0] != "count"]
    if not_counts or not sources:
        return [
            col.finding(
                Status.NEEDS_REVIEW,
                "derived",
                f"derived from {', '.join(map(repr, not_counts)) or 'nothing'}, which this file "
                "does not publish as counts",
            )
        ]
    source_values = [[parse_number(v) for v in col.table.columns[s]] for s in sources]
    findings = []
    for index, value in enumerate(col.values):
        if isinstance(value, Redacted):
            continue
        inputs = [column_values[index] for column_values in source_values]
        if any(isinstance(v, Redacted) for v in inputs):
            findings.append(
                col.finding(
                    Status.FAIL,
                    "derived",
                    f"value {value!r} is published although a count it is derived from is "
                    "suppressed",
                    index,
                )
            )
        elif rule.get("how") == "numerator / denominator" and len(inputs) == 2:
            numerator, denominator = (float(v) for v in inputs)  # type: ignore[arg-type]
            if numerator == denominator > 0 and not col.policy.allow_full_cells:
                findings.append(
                    col.finding(
                        Status.FAIL,
                        "full_cell",
                        f"{sources[0]} equals {sources[1]} ({int(numerator)}): a 100% cell is "
                        "class disclosure (everyone in the group has the attribute)",
                        index,
                    )
                )
            expected = numerator / denominator if denominator else math.nan
            if not (isinstance(value, int | float) and math.isclose(value, expected)):
                findings.append(
                    col.finding(
                        Status.FAIL,
                        "derived",
                        f"ratio {value!r} is not {sources[0]} / {sources[1]} of the published "
                        "counts, so it may come from the unprotected ones",
                        index,
                    )
                )
    return findings or [
        col.finding(
            Status.PASS,
            "derived",
            f"computed from the protected columns {', '.join(map(repr, sources))}",
        )
    ]


def _check_residual_df(col: Column) -> list[Finding]:
    minimum = col.policy.min_residual_df
    findings = [
        col.finding(
            Status.FAIL,
            "residual_degrees_of_freedom",
            f"{int(v)} residual degrees of freedom; the policy needs at least {minimum}",
            index,
        )
        for index, v in enumerate(col.values)
        if isinstance(v, int | float) and v < minimum
    ]
    return findings or [
        col.finding(Status.PASS, "residual_degrees_of_freedom", f"all at least {minimum}")
    ]


def _check_model(
    sidecar: Sidecar | None, kinds: Mapping[str, tuple[str, bool]], policy: DisclosurePolicy
) -> list[Finding]:
    """A model output's design, from its sidecar's ``model`` object: residual degrees of
    freedom, observations per parameter, observations per category. A file that looks like a
    model output (estimate or residual-df columns) without one needs review: its design matrix
    may have a category of one patient, and nothing in the file says."""
    design = sidecar.model if sidecar is not None else None
    if design is None:
        model_columns = sorted(c for c, (kind, _) in kinds.items() if kind in _MODEL_KINDS)
        if not model_columns:
            return []
        return [
            Finding(
                Status.NEEDS_REVIEW,
                "model_design",
                f"model output (column(s) {', '.join(map(repr, model_columns))}) without a "
                "sidecar 'model' object, so its observations, parameters and observations per "
                "category cannot be checked; write one with describe_model, or a person must "
                "review it",
            )
        ]
    problems = model_problems(design, policy)
    if problems:
        return [Finding(Status.FAIL, rule, reason) for rule, reason in problems]
    return [
        Finding(
            Status.PASS,
            "model_design",
            f"{design.observations} observations, {design.parameters} parameters, "
            f"{sum(len(levels) for levels in design.category_counts.values())} categories "
            f"in {len(design.category_counts)} categorical term(s), each above "
            f"{policy.suppress_at_or_below} (recorded in the sidecar)",
        )
    ]


def _check_estimates(col: Column) -> list[Finding]:
    """Estimates are as safe as the model they come from, which :func:`_check_model` checks;
    the column itself says no more."""
    if col.sidecar is not None and col.sidecar.model is not None:
        return [
            col.finding(
                Status.PASS,
                "model_estimates",
                "estimates of the model its sidecar describes (checked as a model)",
            )
        ]
    return []  # the file's model_design finding says what is missing


def _check_unclassified(col: Column) -> list[Finding]:
    what = (
        "mixes numbers and text"
        if col.kinds[col.name][0] == "mixed"
        else "holds numbers that are not counts (fractions or negatives)"
    )
    return [
        col.finding(
            Status.NEEDS_REVIEW,
            "unclassified",
            f"column {what}: it may be a magnitude, a rate or a model estimate; say what it holds "
            "in a sidecar or review by hand",
        )
    ]


_CHECKS: dict[str, Callable[[Column], list[Finding]]] = {
    "count": _check_counts,
    "magnitude": _check_magnitude,
    "derived": _check_derived,
    "residual_df": _check_residual_df,
    "estimate": _check_estimates,
    "order_statistic": check_order_statistic,
    "spread": check_spread,
    "numeric": _check_unclassified,
    "mixed": _check_unclassified,
}
