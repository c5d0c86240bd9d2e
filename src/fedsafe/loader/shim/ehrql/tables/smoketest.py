"""``ehrql.tables.smoketest`` served by fedsafe, once fedsafe has that schema."""

import importlib as _importlib

try:
    _target = _importlib.import_module("fedsafe.tables.smoketest")
except ModuleNotFoundError as _exc:
    if _exc.name != "fedsafe.tables.smoketest":
        raise
    raise ImportError(
        "ehrql.tables.smoketest is not available: fedsafe serves only the core schema so far; "
        "use `from ehrql.tables.core import ...` (patients, practice_registrations, "
        "clinical_events, medications, ons_deaths)",
        name="ehrql.tables.smoketest",
    ) from None

__all__ = list(
    getattr(_target, "__all__", [name for name in vars(_target) if not name.startswith("_")])
)
globals().update({name: getattr(_target, name) for name in __all__})


def __getattr__(name: str) -> object:
    return getattr(_target, name)
