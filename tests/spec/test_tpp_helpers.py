"""Spec: what the tpp schema adds to the language, on data.

ehrQL documents ``apcs.all_diagnoses`` as ICD-10 codes without dots, separated by commas (and
by ``||`` between episodes, which these text tables cannot show), searched with ``contains``
(a sub-string test, so a prefix finds every code under it) and ``contains_any_of``; and
``addresses.imd_quintile`` as the rounded IMD rank mapped to quintiles at
``int(32844 * k / 5)``, with ``unknown`` where there is no rank.
"""

from fedsafe.tables.tpp import addresses, apcs
from spec.harness import SpecCase
from spec.runner import check_case

CASES = [
    SpecCase(
        "all_diagnoses.contains(): a code or its prefix anywhere in the spell",
        tables={
            apcs: """
                patient_id | apcs_ident | all_diagnoses
                1          | 1          | E119,N171
                2          | 2          | N179
                3          | 3          | E119,J849
                4          | 4          |
            """,
        },
        series=lambda: (
            apcs.sort_by(apcs.apcs_ident).first_for_patient().all_diagnoses.contains("N17")
        ),
        expected={1: True, 2: True, 3: False, 4: None},
    ),
    SpecCase(
        "all_diagnoses.contains_any_of(): any of the codes; rows without one are dropped",
        tables={
            apcs: """
                patient_id | apcs_ident | all_diagnoses
                1          | 1          | E119,I801
                1          | 2          | J849
                2          | 3          | C180 ,K869
                3          | 4          | E119,J849
                4          | 5          |
            """,
        },
        series=lambda: apcs.where(
            apcs.all_diagnoses.contains_any_of(["I801", "C18"])
        ).count_for_patient(),
        expected={1: 1, 2: 1, 3: 0, 4: 0},
    ),
    SpecCase(
        "addresses.for_patient_on(...).imd_quintile at the documented boundaries",
        tables={
            addresses: """
                patient_id | address_id | start_date | end_date   | has_postcode | imd_rounded
                1          | 1          | 2019-01-01 |            | T            | 0
                2          | 2          | 2019-01-01 |            | T            | 6568
                3          | 3          | 2019-01-01 |            | T            | 6600
                4          | 4          | 2019-01-01 |            | T            | 32800
                5          | 5          | 2019-01-01 |            | T            |
                6          | 6          | 2021-01-01 |            | T            | 100
            """,
        },
        series=lambda: addresses.for_patient_on("2020-01-01").imd_quintile,
        expected={
            1: "1 (most deprived)",
            2: "1 (most deprived)",
            3: "2",
            4: "5 (least deprived)",
            5: "unknown",
            6: "unknown",  # no address on the date: no rank, so the definition's otherwise
        },
    ),
    SpecCase(
        "addresses.for_patient_on(): an address with a postcode beats a later one without",
        tables={
            addresses: """
                patient_id | address_id | start_date | end_date   | has_postcode | imd_rounded
                1          | 1          | 2018-01-01 |            | T            | 100
                1          | 2          | 2019-01-01 |            | F            | 32800
                2          | 3          | 2018-01-01 |            | T            | 100
                2          | 4          | 2019-01-01 |            | T            | 32800
            """,
        },
        series=lambda: addresses.for_patient_on("2020-01-01").imd_decile,
        expected={1: "1 (most deprived)", 2: "10 (least deprived)"},
    ),
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
