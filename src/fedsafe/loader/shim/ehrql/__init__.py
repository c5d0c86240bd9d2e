"""``import ehrql`` served by fedsafe: the language, under the names ehrQL documents."""

from fedsafe.loader.reexport import serve as _serve

__getattr__ = _serve(globals(), "fedsafe", shim="ehrql")
