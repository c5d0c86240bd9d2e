"""Which tables need a permission, and whether a definition's claims or a project's grants cover
the tables it reads.

Some tables may be used only by projects granted a permission for them. A definition says which
permissions it relies on with ``claim_permissions(...)``; on dummy data a missing claim is only
a warning (the data is not real), while a backend must refuse a job using a table its project
is not granted, before the job runs: :func:`check_granted` is that check.

The list lives here, in trusted code that needs only the query model, so that the decision
never depends on anything a definition says about itself: the tables a query reads are read
from its query model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from fedsafe.errors import FedsafeError
from fedsafe.query_model import nodes as qm

TABLE_PERMISSIONS: Mapping[str, str] = MappingProxyType(
    {
        # ehrQL's TPP schema reference says appointments data is available only case by case.
        "appointments": "appointments",
        # Published studies claim these before using them (e.g. claim_permissions(
        # "sgss_covid_all_tests", "occupation_on_covid_vaccine_record")).
        "occupation_on_covid_vaccine_record": "occupation_on_covid_vaccine_record",
        "sgss_covid_all_tests": "sgss_covid_all_tests",
    }
)
"""Logical table name -> the permission a project needs to read it."""

FEATURE_PERMISSIONS: Mapping[str, str] = MappingProxyType(
    {
        "event_level_data": (
            "writing event-level tables (ehrQL's add_event_table); fedsafe does not provide "
            "that feature yet, so claiming it has no effect"
        ),
    }
)
"""Permissions for features rather than tables, with what they allow."""

KNOWN_PERMISSIONS: frozenset[str] = frozenset(TABLE_PERMISSIONS.values()) | frozenset(
    FEATURE_PERMISSIONS
)


class UnknownPermissionError(FedsafeError):
    """``claim_permissions`` was given a name that is no permission."""


class PermissionRefusedError(FedsafeError):
    """A job reads a table its project has no permission for on this backend."""


@dataclass(frozen=True, order=True)
class MissingPermission:
    """A table a query reads without the permission it needs."""

    permission: str
    table: str

    def dummy_data_warning(self) -> str:
        return (
            f"the table {self.table!r} needs the {self.permission!r} permission, which this "
            f"definition does not claim: add claim_permissions({self.permission!r}). Dummy "
            "data is generated anyway; a backend will refuse the job unless the project is "
            "granted the permission"
        )


def check_permission_names(names: Iterable[object]) -> tuple[str, ...]:
    """The names, if each is a known permission; else an error saying which are known."""
    checked: list[str] = []
    for name in names:
        if not isinstance(name, str):
            raise UnknownPermissionError(
                f"permission names are strings, such as 'appointments', not {name!r}"
            )
        if name not in KNOWN_PERMISSIONS:
            known = ", ".join(repr(p) for p in sorted(KNOWN_PERMISSIONS))
            raise UnknownPermissionError(
                f"{name!r} is not a permission fedsafe knows; the known permissions are {known}"
            )
        checked.append(name)
    return tuple(checked)


def required_permissions(query: qm.Node) -> dict[str, str]:
    """Table -> permission, for each table the query reads that needs one."""
    return {
        name: TABLE_PERMISSIONS[name]
        for name in sorted(qm.tables_used(query))
        if name in TABLE_PERMISSIONS
    }


def missing_permissions(query: qm.Node, held: Iterable[str]) -> tuple[MissingPermission, ...]:
    """The tables the query reads whose permission is not among ``held``."""
    have = set(held)
    return tuple(
        sorted(
            MissingPermission(permission, table)
            for table, permission in required_permissions(query).items()
            if permission not in have
        )
    )


def check_granted(
    query: qm.Node, granted: Iterable[str], *, backend: str, project: str | None = None
) -> None:
    """Refuse, before it runs, a job reading a table the project is not granted on ``backend``.

    What the definition claimed plays no part: on real data only the backend's grants count.
    """
    missing = missing_permissions(query, granted)
    if missing:
        details = "; ".join(f"table {m.table!r} needs permission {m.permission!r}" for m in missing)
        who = f"project {project!r}" if project else "the job (no project was named)"
        raise PermissionRefusedError(
            f"backend {backend!r} refuses this job before it runs: {details}, and {who} is not "
            "granted it there (the backend configuration's [permissions] table)"
        )
