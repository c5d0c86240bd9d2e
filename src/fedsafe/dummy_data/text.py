"""Text values that match a column's documented pattern (``E020[0-9]{5}`` for MSOA codes).

Schemas describe coded text columns with simple regular expressions: literal characters and
character classes with a repeat count. Dummy values drawn from the pattern keep dummy tables
valid against the schema, as codes are. Patterns beyond that simple form are not sampled.
"""

from __future__ import annotations

import re

import numpy as np

_PIECE = re.compile(
    r"\[(?P<cls>[^\]]+)\](?:\{(?P<low>\d+)(?:,(?P<high>\d+))?\})?|(?P<lit>[A-Za-z0-9 _-])"
)
_RANGE = re.compile(r"(.)-(.)")


def _class_chars(spec: str) -> str:
    chars = []
    position = 0
    while position < len(spec):
        found = _RANGE.match(spec, position)
        if found:
            low, high = found.groups()
            chars.extend(chr(c) for c in range(ord(low), ord(high) + 1))
            position = found.end()
        else:
            chars.append(spec[position])
            position += 1
    return "".join(dict.fromkeys(chars))


def can_sample(pattern: str) -> bool:
    """Whether ``pattern`` is of the simple form :func:`sample` understands."""
    position = 0
    while position < len(pattern):
        found = _PIECE.match(pattern, position)
        if not found:
            return False
        position = found.end()
    return True


def sample(pattern: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` strings matching ``pattern`` (which :func:`can_sample` must accept)."""
    columns: list[np.ndarray] = []
    for found in _PIECE.finditer(pattern):
        if found["lit"] is not None:
            columns.append(np.full(n, found["lit"], dtype=object))
            continue
        chars = np.asarray(list(_class_chars(found["cls"])), dtype=object)
        low = int(found["low"] or 1)
        high = int(found["high"] or low)
        lengths = rng.integers(low, high + 1, size=n)
        picked = chars[rng.integers(len(chars), size=(n, high))]
        columns.append(
            np.asarray(["".join(row[:k]) for row, k in zip(picked, lengths)], dtype=object)
        )
    if not columns:
        return np.full(n, "", dtype=object)
    out = columns[0]
    for column in columns[1:]:
        out = out + column
    return out


__all__ = ["can_sample", "sample"]
