"""``ehrql.tables.tpp`` served by fedsafe, once fedsafe has that schema."""

import importlib as _importlib

try:
    _target = _importlib.import_module("fedsafe.tables.tpp")
except ModuleNotFoundError as _exc:
    if _exc.name != "fedsafe.tables.tpp":
        raise
    raise ImportError(
        "ehrql.tables.tpp is not available: fedsafe serves only the core schema so far; "
        "use `from ehrql.tables.core import ...` (patients, practice_registrations, "
        "clinical_events, medications, ons_deaths)",
        name="ehrql.tables.tpp",
    ) from None

__all__ = list(
    getattr(_target, "__all__", [name for name in vars(_target) if not name.startswith("_")])
)
globals().update({name: getattr(_target, name) for name in __all__})


def __getattr__(name: str) -> object:
    return getattr(_target, name)
