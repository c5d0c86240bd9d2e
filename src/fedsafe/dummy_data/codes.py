"""Valid codes that no codelist asked for: the background of a realistic record.

Most events in a real record carry codes a study does not care about. The generator draws them
from a pool of valid codes (right shape, right check digit) so that ``is_in`` tests are False
for most rows, as they would be, and so that dummy tables pass the same validation as real ones.
"""

from __future__ import annotations

import string

import numpy as np

from fedsafe.codes import (
    BaseCode,
    BNFCode,
    CTV3Code,
    DMDCode,
    ICD10Code,
    OPCS4Code,
    SNOMEDCTCode,
    verhoeff_check_digit,
)

_ALNUM = string.ascii_letters + string.digits
_OPCS_LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"


def random_code(code_type: type[BaseCode], rng: np.random.Generator) -> str:
    """One valid code of ``code_type``, drawn from ``rng``."""
    if code_type is SNOMEDCTCode:
        body = str(int(rng.integers(10**4, 10**9))) + "00"
        return body + verhoeff_check_digit(body)
    if code_type is DMDCode:
        body = str(int(rng.integers(10**5, 10**8))) + "1000001" + "10"
        return body + verhoeff_check_digit(body)
    if code_type is ICD10Code:
        letter = string.ascii_uppercase[int(rng.integers(26))]
        digits = int(rng.integers(100, 1000)) if rng.random() < 0.6 else int(rng.integers(10, 100))
        return f"{letter}{digits:02d}"
    if code_type is CTV3Code:
        return "".join(_ALNUM[int(i)] for i in rng.integers(len(_ALNUM), size=5))
    if code_type is OPCS4Code:
        return _OPCS_LETTERS[int(rng.integers(len(_OPCS_LETTERS)))] + str(
            int(rng.integers(100, 1000))
        )
    if code_type is BNFCode:
        head = f"{int(rng.integers(1, 20)):02d}" + "".join(
            str(int(d)) for d in rng.integers(10, size=5)
        )
        letters = string.ascii_uppercase
        tail = "".join(letters[int(i)] for i in rng.integers(26, size=8))
        return head + tail
    raise TypeError(f"no dummy codes for {code_type.__name__}")  # pragma: no cover


def code_pool(
    code_type: type[BaseCode], rng: np.random.Generator, size: int, exclude: frozenset[str]
) -> tuple[str, ...]:
    """``size`` distinct valid codes of ``code_type``, none of them in ``exclude``."""
    found: dict[str, None] = {}
    while len(found) < size:
        code = random_code(code_type, rng)
        if code not in exclude and code_type.is_valid(code):
            found[code] = None
    return tuple(found)


def zipf_weights(size: int, exponent: float = 1.1) -> np.ndarray:
    """Probabilities falling off like word frequencies: a few codes common, most rare."""
    weights = 1.0 / np.arange(1, size + 1) ** exponent
    return weights / weights.sum()
