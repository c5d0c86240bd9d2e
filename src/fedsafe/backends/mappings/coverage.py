"""Which columns of a schema-only table (one not in ``core``) a mapping can provide.

The core tables are provided whole by every mapping. ``apcs`` and ``vaccinations`` exist only in
the ``tpp`` schema; the OMOP mapping builds them from visits, conditions and drug exposures, and
OMOP CDM has nowhere to hold some of their columns (SUS codes such as the discharge method, the
HRG, critical care days). Those columns are left out of the table's provided schema, so that
``fedsafe backend tables`` does not list them and a definition reading one is refused before it
runs, naming the table, the column and the backend (see ``Backend.refuse_unprovided``).
Why each column is not provided: :data:`NOT_PROVIDED`, shown per column in ``docs/schemas.md``
(``python -m fedsafe.backends.reference``); the mapping itself: ``docs/backends.md``.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["NOT_PROVIDED", "PARTIAL_TABLES", "partial_schema"]

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

_SUS_CODE = (
    "a SUS code; OMOP's admitted_from/discharged_to concepts are places of care, not these codes"
)

NOT_PROVIDED: MappingProxyType[str, MappingProxyType[str, str]] = MappingProxyType(
    {
        "apcs": MappingProxyType(
            {
                "discharge_destination": _SUS_CODE,
                "discharge_method": _SUS_CODE,
                "admission_method": _SUS_CODE,
                "patient_classification": _SUS_CODE,
                "spell_core_hrg_sus": "OMOP CDM has no field for the spell's HRG",
                "days_in_critical_care": "OMOP CDM has no field for days in critical care",
                "secondary_diagnosis": (
                    "the first listed secondary diagnosis needs an order of diagnoses "
                    "OMOP does not keep"
                ),
                "all_procedures": "the OPCS-4 procedures of a visit are not mapped yet",
            }
        ),
        "vaccinations": MappingProxyType(
            {
                "target_disease": (
                    "CVX codes name products, not diseases, and the OMOP vocabularies hold "
                    "no open CVX-to-disease map"
                ),
            }
        ),
    }
)
"""Logical table -> each ``tpp`` column the OMOP mapping leaves out -> why. The schema reference
(``python -m fedsafe.backends.reference``) shows these reasons; a test checks that every column
of a table of :data:`PARTIAL_TABLES` is either provided or has a reason here, never both."""


def partial_schema(name: str):  # -> TableSchema
    """The ``tpp`` schema of ``name`` cut down to the columns a mapping provides."""
    from fedsafe.query_model.schema import TableSchema
    from fedsafe.tables import tpp

    full = getattr(tpp, name)._node.schema
    provided = PARTIAL_TABLES[name]
    return TableSchema(tuple(c for c in full.columns if c.name in provided))
