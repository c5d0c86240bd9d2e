"""``ehrql.tables.beta.tpp``, the earlier name of ``ehrql.tables.tpp``, served by fedsafe."""

from fedsafe.loader.reexport import serve as _serve

__getattr__ = _serve(globals(), "fedsafe.tables.tpp", shim="ehrql.tables.beta.tpp")
