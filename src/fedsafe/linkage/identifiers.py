"""Normalising patient identifiers before they are pseudonymised.

Two backends can match a patient only if they write the identifier the same way, so each value
is reduced to one canonical form first. An NHS number is ten digits whose last is a modulus-11
check digit; spaces and hyphens (``943 476 5919``, ``943-476-5919``) are dropped. A value that
fails is counted by reason and left out: it is never pseudonymised and never sent, and the
counts go to the audit record (the values themselves never do).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["Normalised", "nhs_number_problem", "normalise_nhs_number", "normalise_nhs_numbers"]

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
_SEPARATORS = str.maketrans("", "", " -")


def _canonical(value: object) -> tuple[str | None, str | None]:
    """(the ten digits, None) for a valid NHS number, else (None, why it is not)."""
    if not isinstance(value, str):
        return None, "missing" if value is None else "not text"
    digits = value.strip().translate(_SEPARATORS)
    if not digits:
        return None, "missing"
    if not digits.isascii() or not digits.isdigit():
        return None, "not digits"
    if len(digits) != 10:
        return None, "not 10 digits"
    codes = digits.encode()
    check = 11 - sum((c - 48) * w for c, w in zip(codes, _WEIGHTS, strict=False)) % 11
    if check == 11:
        check = 0
    if check == 10 or check != codes[9] - 48:
        return None, "check digit wrong"
    return digits, None


def nhs_number_problem(value: object) -> str | None:
    """Why ``value`` is not a valid NHS number (a short reason for counting), or None."""
    return _canonical(value)[1]


def normalise_nhs_number(value: object) -> str | None:
    """The canonical ten digits, or None when the value is not a valid NHS number."""
    return _canonical(value)[0]


@dataclass(frozen=True)
class Normalised:
    """The patients whose identifier normalised, and the count of those that did not."""

    patient_ids: tuple[int, ...]
    identifiers: tuple[str, ...]
    failures: Mapping[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def report(self) -> str:
        if not self.failed:
            return f"{len(self.identifiers)} identifiers normalised, none failed"
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(self.failures.items()))
        return (
            f"{len(self.identifiers)} identifiers normalised; {self.failed} failed and are left "
            f"out ({reasons})"
        )


def normalise_nhs_numbers(pairs: Iterable[tuple[int, object]]) -> Normalised:
    """Normalise (patient_id, NHS number) pairs; a patient listed twice is counted, once."""
    ids: list[int] = []
    values: list[str] = []
    failures: Counter[str] = Counter()
    seen: set[int] = set()
    seen_values: set[str] = set()
    for patient_id, raw in pairs:
        if patient_id in seen:
            failures["patient listed twice"] += 1
            continue
        seen.add(patient_id)
        value, problem = _canonical(raw)
        if value is None:
            failures[problem or "invalid"] += 1
            continue
        if value in seen_values:
            # Two patients with one NHS number cannot both be linked: the second is left out
            # and counted, so the operator sees the backend's data needs cleaning.
            failures["shared by two patients"] += 1
            continue
        seen_values.add(value)
        ids.append(patient_id)
        values.append(value)
    return Normalised(tuple(ids), tuple(values), dict(failures))
