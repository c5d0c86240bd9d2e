"""Table schemas, and what is needed to declare new ones.

``from fedsafe.tables import PatientFrame, Series, table`` works as ``from ehrql.tables import
...`` does, so a table declared for ehrQL can be declared here unchanged. The tables themselves
live in submodules, one per schema: :mod:`fedsafe.tables.core` is the schema every primary-care
backend provides.
"""

from fedsafe.language.frames import (
    EventFrame,
    PatientFrame,
    Series,
    table,
    table_from_file,
    table_from_rows,
)
from fedsafe.query_model.schema import Constraint

__all__ = [
    "Constraint",
    "EventFrame",
    "PatientFrame",
    "Series",
    "table",
    "table_from_file",
    "table_from_rows",
]
