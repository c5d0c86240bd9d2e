"""A definition's dummy data settings, checked in trusted code.

``configure_dummy_data(...)`` runs inside the definition's sandboxed process, so what comes back
is data from untrusted code: every field is checked here before it steers generation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fedsafe.errors import DefinitionError
from fedsafe.query_model import nodes as qm

DEFAULT_POPULATION_SIZE = 10
MAX_POPULATION_SIZE = 10_000_000
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class DummyDataSettings:
    population_size: int = DEFAULT_POPULATION_SIZE
    timeout: float = DEFAULT_TIMEOUT
    additional_population_constraint: qm.Series | None = None

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DummyDataSettings:
        """Settings from the definition's ``configure_dummy_data`` values, refusing bad ones."""
        size = config.get("population_size", DEFAULT_POPULATION_SIZE)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise DefinitionError(
                f"configure_dummy_data(population_size={size!r}): expected a whole number of "
                "patients, at least 1"
            )
        if size > MAX_POPULATION_SIZE:
            raise DefinitionError(
                f"configure_dummy_data(population_size={size:,}): dummy data is for developing "
                f"code, and at most {MAX_POPULATION_SIZE:,} patients can be generated"
            )
        timeout = config.get("timeout", DEFAULT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise DefinitionError(
                f"configure_dummy_data(timeout={timeout!r}): expected a number of seconds above 0"
            )
        constraint = config.get("additional_population_constraint")
        node = None
        if constraint is not None:
            from fedsafe.query_model.serialize import from_jsonable

            try:
                node = from_jsonable(constraint)
            except ValueError as exc:
                raise DefinitionError(
                    f"configure_dummy_data(additional_population_constraint=...): {exc}"
                ) from None
            if not isinstance(node, qm.Series) or node.type is not bool:
                raise DefinitionError(
                    "configure_dummy_data(additional_population_constraint=...) must be a "
                    "boolean series with one value per patient"
                )
        return cls(size, float(timeout), node)
