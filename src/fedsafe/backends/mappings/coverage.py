"""Which columns of a schema-only table (one not in ``core``) a mapping can provide.

The core tables are provided whole by every mapping. ``apcs`` and ``vaccinations`` exist only in
the ``tpp`` schema; the OMOP mapping builds them from visits, conditions and drug exposures, and
OMOP CDM has nowhere to hold some of their columns (SUS codes such as the discharge method, the
HRG, critical care days). Those columns are left out of the table's provided schema, so that
``fedsafe backend tables`` does not list them and a definition reading one is refused before it
runs, naming the table, the column and the backend (see ``Backend.refuse_unprovided``).
Why each column is or is not provided: ``docs/backends.md``, "OMOP mapping".
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["PARTIAL_TABLES", "partial_schema"]

PARTIAL_TABLES: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        # visit_occurrence (inpatient visits) and their condition_occurrence rows.
        "apcs": (
            "apcs_ident",
            "admission_date",
            "discharge_date",
            "primary_diagnosis",
            "all_diagnoses",
        ),
        # drug_exposure rows whose concept is a CVX vaccine.
        "vaccinations": ("vaccination_id", "date", "product_name"),
    }
)
"""Logical table (of the ``tpp`` schema) -> the columns the OMOP mapping provides, in order."""


def partial_schema(name: str):  # -> TableSchema
    """The ``tpp`` schema of ``name`` cut down to the columns a mapping provides."""
    from fedsafe.query_model.schema import TableSchema
    from fedsafe.tables import tpp

    full = getattr(tpp, name)._node.schema
    provided = PARTIAL_TABLES[name]
    return TableSchema(tuple(c for c in full.columns if c.name in provided))
