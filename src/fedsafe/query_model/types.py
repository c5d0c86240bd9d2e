"""The value types a series can have, and their names in serialised query models.

A type is the Python class of its values: ``bool``, ``int``, ``float``, ``str``,
``datetime.date`` or one of the code classes in :mod:`fedsafe.codes`. Using the classes
themselves keeps the language's type checks and the engines' type mapping in one vocabulary.
"""

from __future__ import annotations

import datetime
from typing import Any, TypeAlias

from fedsafe.codes import CODE_TYPES, MULTI_CODE_STRING_TYPES, BaseCode

Type: TypeAlias = type

PRIMITIVE_TYPES: dict[str, type] = {
    "bool": bool,
    "int": int,
    "float": float,
    "str": str,
    "date": datetime.date,
}
_PRIMITIVE_NAMES = {v: k for k, v in PRIMITIVE_TYPES.items()}


def is_code_type(type_: Type) -> bool:
    return isinstance(type_, type) and issubclass(type_, BaseCode)


def is_valid_type(type_: Any) -> bool:
    return type_ in _PRIMITIVE_NAMES or is_code_type(type_)


def is_numeric(type_: Type) -> bool:
    return type_ in (int, float)


def is_comparable(type_: Type) -> bool:
    """Types with an order that means something to a researcher."""
    return type_ in (int, float, str, datetime.date, bool)


def type_name(type_: Type) -> str:
    """The stable name used in JSON and error messages."""
    if type_ in _PRIMITIVE_NAMES:
        return _PRIMITIVE_NAMES[type_]
    if is_code_type(type_):
        return f"code:{type_.system_id}"
    raise TypeError(f"{type_!r} is not a fedsafe value type")


def type_from_name(name: str) -> Type:
    if name in PRIMITIVE_TYPES:
        return PRIMITIVE_TYPES[name]
    if name.startswith("code:") and name[5:] in CODE_TYPES:
        return CODE_TYPES[name[5:]]
    if name.startswith("code:") and name[5:] in MULTI_CODE_STRING_TYPES:
        return MULTI_CODE_STRING_TYPES[name[5:]]
    raise ValueError(f"unknown value type {name!r}")


def describe_type(type_: Type) -> str:
    """How a type is named to a researcher in an error message."""
    if is_code_type(type_):
        return f"{type_.__name__} code"
    return {bool: "boolean", int: "integer", float: "float", str: "string"}.get(
        type_, "date" if type_ is datetime.date else repr(type_)
    )


def with_article(type_: Type) -> str:
    """``describe_type`` with "a" or "an" in front, for messages."""
    name = describe_type(type_)
    return ("an " if name[0] in "aeiou" else "a ") + name


TRUE_WORDS = frozenset({"true", "t", "yes", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "0"})


def parse_text(type_: Type, text: str) -> Any:
    """A value of ``type_`` from its text form (CSV cells, ``--param`` values).

    Raises ValueError naming what was expected; dates must be YYYY-MM-DD.
    """
    if type_ is str:
        return text
    if type_ is bool:
        lowered = text.strip().lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise ValueError(f"{text!r} is not a boolean (expected T/F, true/false, yes/no or 1/0)")
    if type_ is int:
        return int(text)
    if type_ is float:
        return float(text)
    if type_ is datetime.date:
        if len(text) != 10 or text[4] != "-" or text[7] != "-":
            raise ValueError(f"{text!r} is not a date (expected YYYY-MM-DD)")
        return datetime.date.fromisoformat(text)
    if is_code_type(type_):
        return type_(text)
    raise TypeError(f"{type_!r} is not a fedsafe value type")
