"""``import ehrql.tables`` served by fedsafe: frames, series and the ``table`` decorator."""

import importlib as _importlib

_target = _importlib.import_module("fedsafe.tables")

__all__ = list(
    getattr(_target, "__all__", [name for name in vars(_target) if not name.startswith("_")])
)
globals().update({name: getattr(_target, name) for name in __all__})


def __getattr__(name: str) -> object:
    return getattr(_target, name)
