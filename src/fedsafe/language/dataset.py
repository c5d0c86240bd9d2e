"""The Dataset a definition builds: a population and one column per variable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fedsafe.errors import DefinitionError
from fedsafe.language.frames import BaseFrame
from fedsafe.language.series import BaseSeries
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.population import check_population

DEFAULT_POPULATION_SIZE = 10


@dataclass(frozen=True)
class DummyDataConfig:
    """How to make dummy data for this definition when no real data is given."""

    population_size: int = DEFAULT_POPULATION_SIZE
    legacy: bool = False
    timeout: int = 60
    additional_population_constraint: qm.Series | None = None


class Dataset:
    """Create with ``create_dataset()``; set variables as attributes."""

    def __init__(self) -> None:
        object.__setattr__(self, "_population", None)
        object.__setattr__(self, "_variables", {})
        object.__setattr__(self, "_dummy", DummyDataConfig())

    def define_population(self, population_condition: Any) -> None:
        """Say which patients are in the dataset: those for whom this is True."""
        if self._population is not None:
            raise ValueError("define_population() should be called only once")
        if isinstance(population_condition, BaseFrame):
            raise TypeError(
                "The population must be a boolean series with one value per patient, not a "
                "frame: e.g. practice_registrations.for_patient_on(date).exists_for_patient()"
            )
        if not isinstance(population_condition, BaseSeries):
            raise TypeError(
                "The population must be a boolean series with one value per patient, not "
                f"{population_condition!r}"
            )
        node = population_condition._node
        if node.type is not bool:
            raise TypeError(
                "The population must be a boolean series (True for patients to include), not a "
                f"{type(population_condition).__name__}"
            )
        if not node.domain.is_patient:
            raise TypeError(
                "The population must have one value per patient, but this condition has one "
                f"per row of {node.domain.root.name}: use e.g. .exists_for_patient()"
            )
        check_population(node)
        object.__setattr__(self, "_population", node)

    def add_column(self, column_name: str, ehrql_query: Any) -> None:
        """Add a variable, for names chosen in a loop (same as ``dataset.name = ...``)."""
        self._set_variable(column_name, ehrql_query)

    def configure_dummy_data(
        self,
        *,
        population_size: int = DEFAULT_POPULATION_SIZE,
        legacy: bool = False,
        timeout: int = 60,
        additional_population_constraint: Any = None,
    ) -> None:
        """Set how dummy data is generated for this definition."""
        settings = dummy_data_settings(
            population_size=population_size,
            legacy=legacy,
            timeout=timeout,
            additional_population_constraint=additional_population_constraint,
        )
        object.__setattr__(self, "_dummy", settings)

    def _set_variable(self, name: str, value: Any) -> None:
        qm.check_variable_name(name)
        if name in self._variables:
            raise AttributeError(f"'{name}' is already set and cannot be reassigned")
        if name in _METHOD_NAMES:
            raise AttributeError(f"'{name}' is the name of a Dataset method: choose another name")
        if isinstance(value, BaseFrame):
            raise TypeError(
                f"Invalid variable '{name}': dataset variables must be series, not whole rows; "
                "pick a column, e.g. .date"
            )
        if not isinstance(value, BaseSeries):
            raise TypeError(
                f"Invalid variable '{name}': dataset variables must be series, not {value!r}"
            )
        if not value._node.domain.is_patient:
            raise TypeError(
                f"Invalid variable '{name}': it has one value per row of "
                f"{value._node.domain.root.name}, but a dataset variable needs one value per "
                "patient. Aggregate it (e.g. .count_for_patient()) or pick a row with "
                ".sort_by(...).first_for_patient()"
            )
        self._variables[name] = value._node

    def __setattr__(self, name: str, value: Any) -> None:
        self._set_variable(name, value)

    def __getattr__(self, name: str) -> Any:
        variables = self.__dict__.get("_variables", {})
        if name in variables:
            from fedsafe.language.series import wrap

            return wrap(variables[name])
        raise AttributeError(f"Dataset has no variable {name!r}")


_METHOD_NAMES = frozenset(n for n in vars(Dataset) if not n.startswith("_"))


def create_dataset() -> Dataset:
    """A new, empty dataset."""
    return Dataset()


def compile_dataset(dataset: Dataset) -> qm.Dataset:
    """The query model for a dataset, refusing one without a population."""
    if not isinstance(dataset, Dataset):
        raise DefinitionError(f"'dataset' must be made with create_dataset(), not {dataset!r}")
    if dataset._population is None:
        raise DefinitionError(
            "No population: call dataset.define_population(...) with a boolean series saying "
            "which patients to include"
        )
    return qm.Dataset(dataset._population, tuple(dataset._variables.items()))


def dummy_data_settings(
    *,
    population_size: int,
    legacy: bool,
    timeout: int,
    additional_population_constraint: Any,
) -> DummyDataConfig:
    """Checked dummy data settings (shared by datasets and measures)."""
    if isinstance(population_size, bool) or not isinstance(population_size, int):
        raise TypeError("population_size must be a whole number")
    if population_size < 1:
        raise ValueError("population_size must be at least 1")
    constraint = None
    if additional_population_constraint is not None:
        node = getattr(additional_population_constraint, "_node", None)
        if (
            not isinstance(additional_population_constraint, BaseSeries)
            or node.type is not bool
            or not node.domain.is_patient
        ):
            raise TypeError(
                "additional_population_constraint must be a boolean series with one value "
                "per patient"
            )
        constraint = node
    return DummyDataConfig(population_size, legacy, timeout, constraint)


def dummy_data_config(dataset: Dataset) -> dict[str, Any]:
    """The dummy data settings, as JSON-safe values (the constraint as a query model)."""
    return dummy_settings_json(dataset._dummy)


def dummy_settings_json(settings: DummyDataConfig) -> dict[str, Any]:
    """Dummy data settings as JSON-safe values (the constraint as a query model)."""
    from fedsafe.query_model.serialize import to_jsonable

    constraint = settings.additional_population_constraint
    # Not dataclasses.asdict: it would copy the constraint's whole node tree into dicts first.
    return {
        "population_size": settings.population_size,
        "legacy": settings.legacy,
        "timeout": settings.timeout,
        "additional_population_constraint": (
            None if constraint is None else to_jsonable(constraint)
        ),
    }
