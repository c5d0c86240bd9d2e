"""Rules a population must follow before any data is touched.

The patients a dataset covers are those found in the tables its population reads. A population
that is true for a patient who has no rows anywhere (``~clinical_events.exists_for_patient()``,
say) would have to include every person who ever lived, so it is refused, as ehrQL documents.
"""

from __future__ import annotations

from typing import Any

from fedsafe.query_model import semantics
from fedsafe.query_model.nodes import (
    AggOp,
    Aggregate,
    Case,
    CountEpisodes,
    Function,
    Op,
    QueryModelError,
    SelectColumn,
    Series,
    Value,
)


def value_for_patient_without_data(series: Series) -> Any:
    """The value a patient-level series takes for a patient with no rows in any table."""
    if isinstance(series, Value):
        return series.value
    if isinstance(series, SelectColumn):
        return None
    if isinstance(series, Aggregate):
        if series.op is AggOp.EXISTS:
            return False
        if series.op in (AggOp.COUNT, AggOp.COUNT_DISTINCT):
            return 0
        return None
    if isinstance(series, CountEpisodes):
        return 0
    if isinstance(series, Case):
        for condition, value in series.cases:
            if value_for_patient_without_data(condition) is True:
                return None if value is None else value_for_patient_without_data(value)
        if series.default is None:
            return None
        return value_for_patient_without_data(series.default)
    if isinstance(series, Function):
        if series.op is Op.IN:
            return semantics.is_in(
                value_for_patient_without_data(series.args[0]), series.args[1].values
            )
        args = [value_for_patient_without_data(a) for a in series.args]
        return semantics.FUNCTIONS[series.op](*args)
    raise QueryModelError(f"cannot evaluate {type(series).__name__} at patient level")


def check_population(population: Series) -> None:
    if value_for_patient_without_data(population) is True:
        raise QueryModelError(
            "The population definition must not be true for patients who have no data: it "
            "would include everyone. Combine it with a condition that requires data, e.g. "
            "practice_registrations.for_patient_on(index_date).exists_for_patient() & ..."
        )
