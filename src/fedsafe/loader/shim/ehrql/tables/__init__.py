"""``import ehrql.tables`` served by fedsafe: frames, series and the ``table`` decorator."""

from fedsafe.loader.reexport import serve as _serve

__getattr__ = _serve(globals(), "fedsafe.tables", shim="ehrql.tables")
