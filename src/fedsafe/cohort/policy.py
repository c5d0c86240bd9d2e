"""The small policy every cohort count passes before it leaves a backend.

Cohort discovery follows the HDR UK convention rather than OpenSAFELY's output-checking rules:
counts below ``threshold`` (10) become 0 and the rest are rounded to the nearest multiple of
``rounding_base`` (10), **halves rounded up** (15 -> 20, 25 -> 30), in integer arithmetic so no
float can round the wrong way. A rounded count below the threshold is also reported as 0, so
whatever the settings a released count is never in 1..threshold-1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from fedsafe.cohort.errors import CohortQueryError


@dataclass(frozen=True)
class CohortCountPolicy:
    threshold: int = 10
    rounding_base: int = 10
    auto_release: bool = False
    """Whether this backend lets safe counts leave without a human looking (recorded per answer)."""

    def __post_init__(self) -> None:
        for name in ("threshold", "rounding_base"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise CohortQueryError(
                    f"policy.{name}", f"expected a whole number >= 1, got {value!r}"
                )
        if not isinstance(self.auto_release, bool):
            raise CohortQueryError("policy.auto_release", "expected true or false")

    def safe(self, count: int) -> int:
        """The count as it may leave: 0 below the threshold, else nearest multiple, halves up."""
        if count < self.threshold:
            return 0
        base = self.rounding_base
        rounded = (2 * count + base) // (2 * base) * base
        return rounded if rounded >= self.threshold else 0

    def describe(self) -> str:
        return (
            f"counts below {self.threshold} -> 0; others rounded to the nearest "
            f"{self.rounding_base}, halves up"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
