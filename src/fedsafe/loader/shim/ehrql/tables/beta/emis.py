"""``ehrql.tables.beta.emis``, the earlier name of ``ehrql.tables.emis``, served by fedsafe."""

from fedsafe.loader.reexport import serve as _serve

__getattr__ = _serve(globals(), "fedsafe.tables.emis", shim="ehrql.tables.beta.emis")
