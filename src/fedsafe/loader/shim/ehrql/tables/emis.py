"""``ehrql.tables.emis`` served by fedsafe, once fedsafe has that schema."""

from fedsafe.loader.reexport import serve as _serve

__getattr__ = _serve(globals(), "fedsafe.tables.emis", shim="ehrql.tables.emis")
