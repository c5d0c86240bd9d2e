"""``ehrql.tables.beta.core``, the earlier name of ``ehrql.tables.core``, served by fedsafe."""

from fedsafe.loader.reexport import serve as _serve

__getattr__ = _serve(globals(), "fedsafe.tables.core", shim="ehrql.tables.beta.core")
