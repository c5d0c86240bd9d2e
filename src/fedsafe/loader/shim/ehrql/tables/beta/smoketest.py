"""``ehrql.tables.beta.smoketest``: the earlier name of ``ehrql.tables.smoketest``."""

from fedsafe.loader.reexport import serve as _serve

__getattr__ = _serve(globals(), "fedsafe.tables.smoketest", shim="ehrql.tables.beta.smoketest")
