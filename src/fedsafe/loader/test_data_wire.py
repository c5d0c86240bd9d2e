"""How a definition's ``test_data`` crosses from the confined child to trusted code: as JSON.

ehrQL documents hand-made test patients as a module-level ``test_data`` dict in the definition
file. The definition runs in the sandboxed child, so its ``test_data`` must come back as plain
data, like the query model, and be checked by trusted code. JSON has no dates and no codes, so
values are tagged: a date becomes ``{"$date": "YYYY-MM-DD"}``, a code its text. Anything else
that is not JSON (a set, an object) is refused here, naming where it sits, so the researcher
sees the problem at its source.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

__all__ = ["DATE_TAG", "TestDataEncodingError", "decode_value", "encode_test_data"]

DATE_TAG = "$date"
# Far more than any hand-made test needs; stops a definition from sending back a database.
MAX_PATIENTS = 10_000


class TestDataEncodingError(ValueError):
    """``test_data`` holds something that cannot be sent back as data."""

    __test__ = False  # not a pytest test class, despite the name


def encode_test_data(value: Any) -> Any:
    """``test_data`` as JSON-able data, or a TestDataEncodingError saying where it went wrong."""
    if not isinstance(value, dict):
        raise TestDataEncodingError(
            f"test_data must be a dict of patient id -> {{table name: rows}}, not a "
            f"{type(value).__name__}"
        )
    if len(value) > MAX_PATIENTS:
        raise TestDataEncodingError(f"test_data has more than {MAX_PATIENTS} patients")
    return {_key(k): _encode(v, f"test_data[{k!r}]") for k, v in value.items()}


def _key(key: Any) -> str:
    # JSON keys are text; patient ids are whole numbers, checked again on the trusted side.
    if isinstance(key, bool) or not isinstance(key, int | str):
        raise TestDataEncodingError(
            f"test_data key {key!r}: patient ids must be whole numbers, not {type(key).__name__}"
        )
    return str(key)


def _encode(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TestDataEncodingError(f"{where}: {value!r} is not a usable number")
        return value
    if isinstance(value, datetime.datetime):
        raise TestDataEncodingError(f"{where}: use a date (datetime.date), not a date and time")
    if isinstance(value, datetime.date):
        return {DATE_TAG: value.isoformat()}
    code_value = getattr(value, "value", None)
    if hasattr(type(value), "system_id") and isinstance(code_value, str):
        return code_value  # a code: its text, validated against the column's coding system
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TestDataEncodingError(f"{where}: key {k!r} must be text")
            out[k] = _encode(v, f"{where}[{k!r}]")
        return out
    if isinstance(value, list | tuple):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise TestDataEncodingError(
        f"{where}: a {type(value).__name__} cannot be used in test data; use numbers, text, "
        "True/False, None, datetime.date, codes, lists and dicts"
    )


def decode_value(value: Any) -> Any:
    """One leaf value back from JSON: tagged dates become dates, the rest is unchanged."""
    if isinstance(value, dict) and set(value) == {DATE_TAG} and isinstance(value[DATE_TAG], str):
        try:
            return datetime.date.fromisoformat(value[DATE_TAG])
        except ValueError:
            return value
    return value
