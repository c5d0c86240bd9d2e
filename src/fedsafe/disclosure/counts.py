"""Small-number suppression and rounding of counts: the two rules every count output gets.

Suppression runs first and rounding second, so a redacted count never leaks through its
rounded value and a published count is always the rounding of a count above the threshold.
``None`` stands for a value that is missing or already redacted, and stays ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral

from fedsafe.disclosure.errors import TableError
from fedsafe.disclosure.policy import DisclosurePolicy

__all__ = [
    "check_count",
    "is_possible_protected_count",
    "is_suppressed",
    "protect_count",
    "protect_counts",
    "round_count",
]


def check_count(value: object, *, where: str = "value") -> int | None:
    """``value`` as a count (a whole number >= 0, or None), or a TableError naming ``where``.

    Floats and booleans are refused rather than converted: ``3.7`` patients or ``True``
    patients mean the caller passed the wrong column, and rounding it quietly would hide that.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TableError(
            f"{where}: expected a count (a whole number >= 0), got {value!r} "
            f"({type(value).__name__})"
        )
    count = int(value)
    if count < 0:
        raise TableError(f"{where}: expected a count (a whole number >= 0), got {count}")
    return count


def is_suppressed(count: int, policy: DisclosurePolicy) -> bool:
    """Whether the small-number rule redacts ``count`` on its own (primary suppression)."""
    if count == 0:
        return policy.redacts_zero
    return count <= policy.suppress_at_or_below


def round_count(count: int, policy: DisclosurePolicy) -> int:
    """``count`` rounded by the policy's method. Integer arithmetic, so no float surprises.

    ``nearest``: the nearest multiple of the base, halves up (only possible for even bases).
    ``midpoint`` (OpenSAFELY's "midpoint 6"): 0 stays 0; otherwise the top of the count's
    interval of ``base`` values minus half the base, so 1-6 -> 3, 7-12 -> 9 for base 6.
    """
    base = policy.base
    if policy.rounding == "none":
        return count
    if policy.rounding == "nearest":
        return (count + base // 2) // base * base
    if count == 0:
        return 0
    return -(-count // base) * base - base // 2


def protect_count(value: int | None, policy: DisclosurePolicy) -> int | None:
    """One count suppressed (None) or rounded, as the policy says."""
    if value is None or is_suppressed(value, policy):
        return None
    return round_count(value, policy)


def protect_counts(values: Iterable[object], policy: DisclosurePolicy) -> list[int | None]:
    """Counts with small-number suppression then rounding applied; None stays None.

    Every value is checked before any is changed, so bad input raises and returns nothing.
    """
    counts = [check_count(v, where=f"value {i}") for i, v in enumerate(values)]
    return [protect_count(c, policy) for c in counts]


def is_possible_protected_count(value: int, policy: DisclosurePolicy) -> bool:
    """Whether ``value`` could have come out of :func:`protect_count` under ``policy``.

    The checker uses this to tell a protected count from a raw one without the raw data: for
    nearest-5 with threshold 7 the possible values are 0 and the multiples of 5 from 10 up.
    """
    if value < 0:
        return False
    if value == 0:
        return not policy.redacts_zero
    smallest_kept = policy.suppress_at_or_below + 1
    if policy.rounding == "none":
        return value >= smallest_kept
    if round_count(value, policy) != value:
        return False
    return value >= round_count(smallest_kept, policy)
