"""``ehrql.tables.core`` served by fedsafe: the tables every backend provides."""

from fedsafe.loader.reexport import serve as _serve

__getattr__ = _serve(globals(), "fedsafe.tables.core", shim="ehrql.tables.core")
