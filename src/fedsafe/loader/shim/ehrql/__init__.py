"""``import ehrql`` served by fedsafe: the language, under the names ehrQL documents."""

import fedsafe as _target

__all__ = [name for name in _target.__all__ if not name.startswith("__")]
globals().update({name: getattr(_target, name) for name in __all__})


def __getattr__(name: str) -> object:
    return getattr(_target, name)
