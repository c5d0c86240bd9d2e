"""A backend's disclosure policy: the parameters every disclosure rule reads.

One frozen value object, validated when it is built, so a rule never has to wonder whether its
threshold is negative or its rounding base is zero. Backends give it as a ``[disclosure]`` table
in their configuration; :meth:`DisclosurePolicy.from_mapping` refuses unknown keys by name,
because a misspelt key (``supress_at_or_below = 10``) silently falling back to a weaker default
is exactly the failure a disclosure policy must not have.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from fedsafe.disclosure.errors import PolicyError

__all__ = ["POLICY_VARIABLE", "ROUNDING_METHODS", "DisclosurePolicy", "RoundingMethod"]

POLICY_VARIABLE = "FEDSAFE_DISCLOSURE_POLICY"
"""Environment variable through which a backend hands its policy (as JSON) to analysis code."""

RoundingMethod = Literal["nearest", "midpoint", "none"]
ROUNDING_METHODS: tuple[str, ...] = ("nearest", "midpoint", "none")
_DEFAULT_BASE = {"nearest": 5, "midpoint": 6}


@dataclass(frozen=True)
class DisclosurePolicy:
    """Parameters of the disclosure rules. The defaults follow OpenSAFELY's published rules.

    Attributes:
        suppress_at_or_below: counts from 1 up to this value are redacted (OpenSAFELY: 7).
        suppress_zero: also redact zeros. Off by default: a zero describes no patient, and
            OpenSAFELY's midpoint-6 rounding likewise keeps zero as zero.
        rounding: ``"nearest"`` rounds to the nearest multiple of ``rounding_base`` (halves go
            up); ``"midpoint"`` is OpenSAFELY's "midpoint 6" rounding, which maps 1-6 to 3,
            7-12 to 9 and so on, keeping 0 as 0 and adding no bias; ``"none"`` does not round.
        rounding_base: the multiple; defaults to 5 for ``nearest`` and 6 for ``midpoint``.
        secondary_suppression: in tables that publish totals, suppress further cells so that no
            redacted cell can be worked out from the totals.
        dominance_n, dominance_k: the (n, k) rule for magnitude tables: a cell is unsafe when
            its ``n`` largest contributors make up more than ``k`` percent of its total.
        p_percent: the p% rule: a cell is unsafe when the total minus its two largest
            contributors is less than ``p`` percent of the largest (the second-largest
            contributor could then estimate the largest to within ``p`` percent).
        min_residual_df: model outputs need at least this many residual degrees of freedom.
        min_observations_per_parameter: model outputs need at least this many observations for
            each fitted parameter (10, the common "ten per parameter" rule of thumb): a model
            with nearly as many parameters as records comes close to restating them, even when
            its residual degrees of freedom pass. 1 leaves only the residual-df rule.
        allow_zero_cells: publish zero counts. Off by default: a zero in a frequency table is
            class disclosure ("none of the men aged 45-49 had X" tells of every such man), so
            the checker fails unredacted zeros and producers redact them (the SDC Handbook and
            ONS guidance on zeros in tables); turn on where zeros are structural or harmless.
        allow_full_cells: publish a cell that holds its whole row or column (100%). Off by
            default for the same reason: "all of them had X" tells of every member.
    """

    suppress_at_or_below: int = 7
    suppress_zero: bool = False
    rounding: RoundingMethod = "nearest"
    rounding_base: int | None = None
    secondary_suppression: bool = True
    dominance_n: int = 2
    dominance_k: float = 90.0
    p_percent: float = 10.0
    min_residual_df: int = 10
    min_observations_per_parameter: float = 10
    allow_zero_cells: bool = False
    allow_full_cells: bool = False

    @property
    def redacts_zero(self) -> bool:
        """Whether producers redact a zero count: asked for, or zeros may not be published."""
        return self.suppress_zero or not self.allow_zero_cells

    def __post_init__(self) -> None:
        _flag(self, "allow_zero_cells")
        _flag(self, "allow_full_cells")
        _whole(self, "suppress_at_or_below", minimum=0)
        _flag(self, "suppress_zero")
        _flag(self, "secondary_suppression")
        if self.rounding not in ROUNDING_METHODS:
            raise PolicyError(
                f"disclosure policy: rounding must be one of {', '.join(ROUNDING_METHODS)}, "
                f"got {self.rounding!r}"
            )
        if self.rounding_base is None:
            object.__setattr__(self, "rounding_base", _DEFAULT_BASE.get(self.rounding, 1))
        elif self.rounding == "none":
            raise PolicyError(
                "disclosure policy: rounding_base was given but rounding is 'none'; "
                "remove rounding_base or choose a rounding method"
            )
        _whole(self, "rounding_base", minimum=2 if self.rounding != "none" else 1)
        _whole(self, "dominance_n", minimum=1)
        _number(self, "dominance_k", above=0, at_most=100)
        _number(self, "p_percent", above=0, at_most=100)
        _whole(self, "min_residual_df", minimum=0)
        _number(self, "min_observations_per_parameter", at_least=1)

    @property
    def base(self) -> int:
        """The rounding base after defaults are filled in (1 when there is no rounding)."""
        assert self.rounding_base is not None  # filled in by __post_init__
        return self.rounding_base

    @classmethod
    def from_mapping(
        cls, mapping: Mapping[str, Any], *, source: str = "[disclosure]"
    ) -> DisclosurePolicy:
        """Build a policy from a config table, refusing keys it does not know by name.

        ``source`` names where the mapping came from (a file and table) for error messages.
        """
        if not isinstance(mapping, Mapping):
            raise PolicyError(
                f"{source}: expected a table of settings, got {type(mapping).__name__}"
            )
        known = [f.name for f in fields(cls)]
        unknown = sorted(str(key) for key in mapping if key not in known)
        if unknown:
            raise PolicyError(
                f"{source}: unknown setting{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(repr(k) for k in unknown)}; known settings are {', '.join(known)}"
            )
        try:
            return cls(**dict(mapping))
        except PolicyError as exc:
            raise PolicyError(f"{source}: {str(exc).removeprefix('disclosure policy: ')}") from None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> DisclosurePolicy:
        """The policy a backend gave analysis code in ``FEDSAFE_DISCLOSURE_POLICY`` (a JSON
        object of settings), or the defaults when it gave none.

        Analysis code runs without the backend's configuration file; the executor passes the
        ``[disclosure]`` table this way so the safe helpers apply the backend's rules.
        """
        text = (os.environ if environ is None else environ).get(POLICY_VARIABLE)
        if text is None:
            return cls()
        try:
            settings = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PolicyError(f"{POLICY_VARIABLE}: not valid JSON ({exc})") from None
        return cls.from_mapping(settings, source=POLICY_VARIABLE)

    def to_dict(self) -> dict[str, Any]:
        """The policy as JSON-able data, with defaults filled in (for sidecars and logs)."""
        return asdict(self)


def _whole(policy: DisclosurePolicy, name: str, *, minimum: int) -> None:
    value = getattr(policy, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise PolicyError(
            f"disclosure policy: {name} must be a whole number >= {minimum}, got {value!r}"
        )


def _flag(policy: DisclosurePolicy, name: str) -> None:
    value = getattr(policy, name)
    if not isinstance(value, bool):
        raise PolicyError(f"disclosure policy: {name} must be true or false, got {value!r}")


def _number(
    policy: DisclosurePolicy,
    name: str,
    *,
    above: float | None = None,
    at_least: float | None = None,
    at_most: float = math.inf,
) -> None:
    """A finite number in range: greater than ``above`` or at least ``at_least``, at most
    ``at_most``."""
    value = getattr(policy, name)
    if at_least is not None:
        low, low_text = (lambda v: v >= at_least), f"at least {at_least}"
    else:
        low, low_text = (lambda v: above is None or v > above), f"greater than {above}"
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not low(value)
        or value > at_most
    ):
        high_text = f" and at most {at_most}" if math.isfinite(at_most) else ""
        raise PolicyError(
            f"disclosure policy: {name} must be a number {low_text}{high_text}, got {value!r}"
        )
