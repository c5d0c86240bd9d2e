"""The smoketest schema: the smallest table every backend provides.

Written from ehrQL's documented ``ehrql.tables.smoketest`` schema: one table with one column,
enough for a minimal definition (such as a distribution of ages) to test a backend end to end.
"""

from __future__ import annotations

import datetime

from fedsafe.language.frames import PatientFrame, Series, table
from fedsafe.query_model.schema import Constraint


@table
class patients(PatientFrame):
    """One row per patient, with only the year and month of birth."""

    date_of_birth = Series(
        datetime.date,
        description="Year and month of birth, as YYYY-MM-01: the day is always the first.",
        constraints=[Constraint.FirstOfMonth(), Constraint.NotNull()],
    )


__all__ = ["patients"]
