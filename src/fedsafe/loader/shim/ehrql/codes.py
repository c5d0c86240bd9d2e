"""``ehrql.codes`` served by fedsafe: the code types (``SNOMEDCTCode``, ``ICD10Code``, ...)."""

from fedsafe.loader.reexport import serve as _serve

__getattr__ = _serve(globals(), "fedsafe.codes", shim="ehrql.codes")
