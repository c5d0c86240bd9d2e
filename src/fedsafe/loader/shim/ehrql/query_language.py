"""``ehrql.query_language`` served by fedsafe: the language's classes, for type annotations."""

from fedsafe.loader.reexport import serve as _serve

__getattr__ = _serve(globals(), "fedsafe.language", shim="ehrql.query_language")
