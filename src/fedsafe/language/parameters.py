"""Parameters passed on the command line (``--param NAME=VALUE``) to a definition.

The values are bound for the duration of one evaluation with a context variable, so evaluating
two definitions with different parameters in one process cannot mix them up.
"""

from __future__ import annotations

import contextvars
import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fedsafe.query_model.types import parse_text

_PARAMETERS: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "fedsafe_parameters", default=None
)

_MISSING = object()


@contextmanager
def bound_parameters(params: dict[str, str]) -> Iterator[None]:
    token = _PARAMETERS.set(dict(params))
    try:
        yield
    finally:
        _PARAMETERS.reset(token)


def _convert(name: str, raw: str, type_: type) -> Any:
    if type_ not in (str, int, float, bool, datetime.date):
        raise TypeError(
            f"get_parameter() type must be str, int, float, bool or date, not {type_!r}"
        )
    try:
        return parse_text(type_, raw)
    except ValueError:
        raise ValueError(
            f"Parameter {name!r} is {raw!r}, which is not a valid {type_.__name__}"
        ) from None


def get_parameter(name: str, type: type = str, default: Any = _MISSING) -> Any:
    """The value given with ``--param NAME=VALUE``, converted to ``type``, else ``default``."""
    params = _PARAMETERS.get() or {}
    if name in params:
        return _convert(name, params[name], type)
    if default is not _MISSING:
        return default
    given = ", ".join(sorted(params)) or "none"
    raise ValueError(
        f"Parameter {name!r} was not given: pass it with --param {name}=VALUE "
        f"(parameters given: {given})"
    )
