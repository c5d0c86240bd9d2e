"""What may be said about an error without saying anything about the data: an allow-list.

An exception's message is built at run time and can hold anything the code had in hand: a
patient's value (``KeyError: 'NHS 943 476 5919'``), rows of a table (pandas echoes them), a path
inside the backend. So a safe summary never uses it. It says only the error's class, and a
sentence chosen from this list by class, or a trusted class's own docstring (written by the
library's authors, not computed from data). Anything not on the list is described by the
nearest class above it that is.
"""

from __future__ import annotations

import builtins

__all__ = ["BUILTIN_MESSAGES", "TRUSTED_LIBRARIES", "builtin_message"]

BUILTIN_MESSAGES: dict[str, str] = {
    "KeyError": "a key (such as a column name or dictionary key) was not found",
    "IndexError": "an index was out of range",
    "LookupError": "a key or index was not found",
    "ValueError": "a value was not valid for the operation",
    "UnicodeDecodeError": "text could not be decoded",
    "UnicodeEncodeError": "text could not be encoded",
    "TypeError": "a value had the wrong type for the operation",
    "ZeroDivisionError": "division by zero",
    "OverflowError": "a number was too large",
    "FloatingPointError": "a floating point operation failed",
    "ArithmeticError": "an arithmetic operation failed",
    "AttributeError": "an object has no attribute of that name",
    "NameError": "a name is used before it is defined",
    "UnboundLocalError": "a local variable is used before it is assigned",
    "ModuleNotFoundError": "a module could not be found",
    "ImportError": "a module or name could not be imported",
    "FileNotFoundError": "a file or folder was not found",
    "FileExistsError": "a file or folder already exists",
    "IsADirectoryError": "a folder was used where a file was expected",
    "NotADirectoryError": "a file was used where a folder was expected",
    "PermissionError": "permission was denied",
    "TimeoutError": "an operation timed out",
    "OSError": "an operating system call failed",
    "MemoryError": "the process ran out of memory",
    "RecursionError": "maximum recursion depth exceeded",
    "NotImplementedError": "something is not implemented",
    "RuntimeError": "a run-time error occurred",
    "AssertionError": "an assertion failed",
    "StopIteration": "an iterator was exhausted",
    "IndentationError": "the code is not indented correctly",
    "SyntaxError": "the code is not valid Python",
    "SystemExit": "the code called sys.exit()",
    "KeyboardInterrupt": "the run was interrupted",
    "ExceptionGroup": "several errors occurred",
    "Exception": "an error occurred",
    "BaseException": "an error occurred",
}

# Libraries whose exception classes (names and docstrings) are trusted: code written by their
# authors, installed in the runtime, never computed from the data.
TRUSTED_LIBRARIES = frozenset(
    {
        "fedsafe",
        "pandas",
        "numpy",
        "pyarrow",
        "ibis",
        "duckdb",
        "sqlglot",
        "scipy",
        "statsmodels",
        "sklearn",
        "matplotlib",
        "polars",
    }
)


def builtin_message(cls: type) -> tuple[str, str] | None:
    """(class name, sentence) for the nearest allow-listed built-in class in ``cls``'s MRO."""
    for base in cls.__mro__:
        name = base.__name__
        if name in BUILTIN_MESSAGES and getattr(builtins, name, None) is base:
            return name, BUILTIN_MESSAGES[name]
    return None
