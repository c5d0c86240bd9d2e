"""The checker's rules for order statistics, spreads and identical values (issue #16).

See :mod:`fedsafe.disclosure.order_statistics` for why. Each finding names the column and the
group (the row's labels). Nothing here takes a sidecar's word that a value is safe: a recorded
count of patients on each side is compared with the checking policy's threshold, and where no
count is recorded the statistic fails, because nothing shows it is safe.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fedsafe.disclosure.findings import Finding, Status
from fedsafe.disclosure.order_statistics import statistic_of
from fedsafe.disclosure.reading import Redacted

if TYPE_CHECKING:
    from fedsafe.disclosure.checker import Column

__all__ = ["check_identical_values", "check_order_statistic", "check_spread"]


def _published(col: Column) -> list[int]:
    return [i for i, v in enumerate(col.values) if isinstance(v, int | float)]


def check_order_statistic(col: Column) -> list[Finding]:
    """A minimum or maximum fails; a median or percentile fails unless more than the threshold
    number of patients lie on each side of it, as recorded by the helper that made it."""
    threshold = col.policy.suppress_at_or_below
    rule: Mapping[str, Any] = col.recorded.get("order_statistic", {})
    statistic = rule.get("statistic") or statistic_of(col.name) or "order statistic"
    fewest = rule.get("fewest_either_side")
    if fewest is not None and (not isinstance(fewest, list) or len(fewest) != len(col.values)):
        fewest = None  # a record that does not fit the file shows nothing
    findings = []
    for index in _published(col):
        where = f"{statistic} in column {col.name!r} for {col.group(index)}"
        if statistic in ("min", "max"):
            reason = (
                f"{where} is one patient's value (no patient lies beyond it); a minimum or "
                "maximum never passes: publish a percentile made with the safe helpers"
            )
        elif statistic == "mode":
            if "identical_values" in col.recorded:
                continue  # rows recorded as all-equal fail in check_identical_values
            reason = (
                f"{where}: a mode is the value its patients share, and nothing records whether "
                "the group's values are all the same (then it is every member's value); make it "
                "with a helper that records identical values, or review by hand"
            )
        elif fewest is None:
            reason = (
                f"{where}: nothing records how many patients lie on each side of it; it needs "
                f"more than {threshold} on each side (use safe_summary_table, which records it)"
            )
        else:
            side = fewest[index]
            if isinstance(side, int) and not isinstance(side, bool) and side > threshold:
                continue
            reason = (
                f"{where} has {side!r} patients on its sparser side; it needs more than "
                f"{threshold} on each side"
            )
        findings.append(col.finding(Status.FAIL, "order_statistic", reason, index))
    return findings or [
        col.finding(
            Status.PASS,
            "order_statistic",
            f"each published {statistic} has more than {threshold} patients on each side "
            "(recorded in its sidecar and checked against the policy)",
        )
    ]


def check_spread(col: Column) -> list[Finding]:
    """A spread of 0 says every value in the group is the same: the group's mean, median or
    mode then gives each member's value. Other spreads need a person (they are magnitudes)."""
    findings = [
        col.finding(
            Status.FAIL,
            "identical_values",
            f"spread 0 in column {col.name!r} for {col.group(index)}: every value in the group "
            "is the same, so any average of it reveals each member's value",
            index,
        )
        for index in _published(col)
        if col.values[index] == 0
    ]
    return findings or [
        col.finding(
            Status.PASS,
            "identical_values",
            "no spread is 0, so no group's values are all the same",
        )
    ]


def check_identical_values(col: Column) -> list[Finding]:
    """Rows the producer recorded as having all-equal values must not publish a statistic."""
    rule = col.recorded.get("identical_values")
    if rule is None:
        return []
    flags = rule.get("all_equal")
    if not isinstance(flags, list) or len(flags) != len(col.values):
        return [
            col.finding(
                Status.NEEDS_REVIEW,
                "identical_values",
                "the sidecar's all_equal record does not have one flag per row",
            )
        ]
    return [
        col.finding(
            Status.FAIL,
            "identical_values",
            f"column {col.name!r} for {col.group(index)} summarises values that are all the "
            "same, so it reveals each member's value",
            index,
        )
        for index, flag in enumerate(flags)
        if flag is True and not isinstance(col.values[index], Redacted)
    ]
