"""Permissions: which tables need one, and the checks for dummy data and for a backend."""

from __future__ import annotations

import pytest

from fedsafe import claim_permissions, create_dataset
from fedsafe.errors import FedsafeError
from fedsafe.language.dataset import compile_dataset
from fedsafe.language.permissions import collecting_claims
from fedsafe.permissions import (
    KNOWN_PERMISSIONS,
    TABLE_PERMISSIONS,
    MissingPermission,
    PermissionRefusedError,
    UnknownPermissionError,
    check_granted,
    missing_permissions,
    required_permissions,
)
from fedsafe.tables import tpp


def _query(*, appointments: bool = True, sgss: bool = False):
    dataset = create_dataset()
    dataset.define_population(tpp.patients.exists_for_patient())
    if appointments:
        dataset.n_appointments = tpp.appointments.count_for_patient()
    if sgss:
        dataset.positive = tpp.sgss_covid_all_tests.where(
            tpp.sgss_covid_all_tests.is_positive
        ).exists_for_patient()
    return compile_dataset(dataset)


def test_every_restricted_table_exists_in_the_tpp_schema():
    for table in TABLE_PERMISSIONS:
        assert table in tpp.__all__


def test_required_permissions_come_from_the_tables_the_query_reads():
    assert required_permissions(_query()) == {"appointments": "appointments"}
    assert required_permissions(_query(appointments=False)) == {}
    both = required_permissions(_query(sgss=True))
    assert both == {"appointments": "appointments", "sgss_covid_all_tests": "sgss_covid_all_tests"}


def test_missing_permissions_name_permission_and_table():
    query = _query(sgss=True)
    assert missing_permissions(query, ["appointments"]) == (
        MissingPermission("sgss_covid_all_tests", "sgss_covid_all_tests"),
    )
    assert missing_permissions(query, ["appointments", "sgss_covid_all_tests"]) == ()
    warning = MissingPermission("appointments", "appointments").dummy_data_warning()
    assert "'appointments' permission" in warning and "table 'appointments'" in warning
    assert "claim_permissions('appointments')" in warning


def test_a_backend_refuses_a_table_the_project_is_not_granted():
    query = _query()
    with pytest.raises(PermissionRefusedError) as info:
        check_granted(query, ["event_level_data"], backend="tpp-east")
    message = str(info.value)
    assert "'tpp-east'" in message
    assert "table 'appointments' needs permission 'appointments'" in message
    assert isinstance(info.value, FedsafeError)
    check_granted(query, ["appointments"], backend="tpp-east")  # granted: no error
    check_granted(_query(appointments=False), [], backend="tpp-east")


def test_claims_are_collected_in_order_without_repeats():
    with collecting_claims() as claims:
        claim_permissions("appointments")
        claim_permissions("event_level_data", "appointments")
    assert list(claims) == ["appointments", "event_level_data"]


@pytest.mark.parametrize("bad", ["apointments", "", 42, None])
def test_unknown_permission_is_an_error_naming_the_known_ones(bad):
    with collecting_claims() as claims, pytest.raises(UnknownPermissionError) as info:
        claim_permissions("appointments", bad)
    assert claims == {}  # nothing is recorded from a call with a bad name
    if isinstance(bad, str):
        assert f"{bad!r} is not a permission" in str(info.value)
        assert all(repr(p) in str(info.value) for p in KNOWN_PERMISSIONS)
