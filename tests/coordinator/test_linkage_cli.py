"""``fedsafe coordinator create-linkage / grant-linkage / revoke-linkage`` from the shell: each
change audited with who and why, bad input refused with ``error: ...`` and exit status 2,
changing nothing."""

from __future__ import annotations

import json

from coordinator.live import cli, query, seed

PERMISSION = [
    "create-linkage",
    "--project",
    "p",
    "--requester",
    "primary",
    "--provider",
    "hospital",
    "--table",
    "tpp.apcs=admission_date,primary_diagnosis",
    "--finest-dates",
    "month",
    "--expires",
    "2099-01-01T00:00:00+00:00",
    "--start",
    "2019-01-01",
    "--end",
    "2024-12-31",
]


def audit(database: str) -> list[tuple[str, dict]]:
    rows = query(
        database,
        "SELECT kind, data FROM coordinator_auditevent WHERE kind LIKE 'linkage.%' ORDER BY id",
    )
    return [(kind, json.loads(data)) for kind, data in rows]


def test_create_grant_and_revoke_a_linkage_permission(sqlite_url):
    seed(sqlite_url, {"primary": "patients", "hospital": "patients"})
    made = cli(*PERMISSION, database=sqlite_url)
    assert made.returncode == 0, made.stderr
    assert "created linkage permission 1" in made.stderr
    first = cli("grant-linkage", "1", "--backend", "primary", "--by", "Dr A", database=sqlite_url)
    assert first.returncode == 0 and "it is not yet active" in first.stderr, first.stderr
    second = cli("grant-linkage", "1", "--backend", "hospital", "--by", "Ms B", database=sqlite_url)
    assert second.returncode == 0 and "it is active" in second.stderr, second.stderr
    gone = cli("revoke-linkage", "1", "--reason", "study closed", database=sqlite_url)
    assert gone.returncode == 0, gone.stderr
    events = audit(sqlite_url)
    assert [kind for kind, _ in events] == [
        "linkage.permission_created",
        "linkage.granted",
        "linkage.granted",
        "linkage.revoked",
    ]
    assert events[0][1]["tables"] == {"tpp.apcs": ["admission_date", "primary_diagnosis"]}
    assert events[0][1]["date_range"] == {"start": "2019-01-01", "end": "2024-12-31"}
    assert [(e["backend"], e["granted_by"]) for _, e in events[1:3]] == [
        ("primary", "Dr A"),
        ("hospital", "Ms B"),
    ]
    assert events[3][1]["reason"] == "study closed"
    assert query(sqlite_url, "SELECT revoke_reason FROM coordinator_linkagepermission") == [
        ("study closed",)
    ]


def test_bad_linkage_commands_are_refused_and_change_nothing(sqlite_url):
    seed(sqlite_url, {"primary": "patients", "hospital": "patients"})
    assert cli(*PERMISSION, database=sqlite_url).returncode == 0
    before = query(sqlite_url, "SELECT count(*) FROM coordinator_auditevent")
    swap = PERMISSION.index
    cases = [
        (
            [
                *PERMISSION[: swap("--provider") + 1],
                "primary",
                *PERMISSION[swap("--provider") + 2 :],
            ],
            "error: provider: 'primary' cannot link to itself",
        ),
        ([*PERMISSION[:-2]], "error: dates:"),
        (
            [
                *PERMISSION[: swap("--expires") + 1],
                "2020-01-01T00:00:00+00:00",
                *PERMISSION[swap("--expires") + 2 :],
            ],
            "error: expires_at: ",
        ),
        (
            ["grant-linkage", "1", "--backend", "elsewhere", "--by", "X"],
            "error: backend: no backend called 'elsewhere'",
        ),
        (
            ["grant-linkage", "7", "--backend", "primary", "--by", "X"],
            "error: permission: no linkage permission 7",
        ),
        (["revoke-linkage", "1", "--reason", " "], "error: reason: say why"),
    ]
    for args, message in cases:
        done = cli(*args, database=sqlite_url)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith(message), (args, done.stderr)
    assert query(sqlite_url, "SELECT count(*) FROM coordinator_auditevent") == before
    assert query(sqlite_url, "SELECT count(*) FROM coordinator_linkagepermission") == [(1,)]
    assert query(sqlite_url, "SELECT count(*) FROM coordinator_linkagegrant") == [(0,)]
