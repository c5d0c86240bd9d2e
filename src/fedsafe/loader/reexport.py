"""How each module of the ``ehrql`` shim serves a fedsafe module under ehrQL's name."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

NOT_YET_SERVED = (
    "{name} is not available in fedsafe; the schemas it serves are ehrql.tables.core, "
    "ehrql.tables.tpp, ehrql.tables.emis and ehrql.tables.smoketest"
)


def serve(namespace: dict[str, Any], target: str, *, shim: str) -> Callable[[str], object]:
    """Copy ``target``'s public names into the shim module; return its ``__getattr__``.

    A target fedsafe does not have yet raises ImportError saying so, under the ehrQL name the
    definition used, rather than a confusing error about fedsafe's own modules.
    """
    try:
        module = importlib.import_module(target)
    except ModuleNotFoundError as error:
        if error.name != target:
            raise
        raise ImportError(NOT_YET_SERVED.format(name=shim), name=shim) from None
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name in vars(module) if not name.startswith("_")]
    names = [name for name in names if not name.startswith("__")]
    namespace["__all__"] = list(names)
    namespace.update({name: getattr(module, name) for name in names})

    def __getattr__(name: str) -> object:
        return getattr(module, name)

    return __getattr__
