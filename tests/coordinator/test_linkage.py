"""The coordinator's linkage gate (issue #15): a request for an action that declares
``linkage:`` in project.yaml (read from a real git repository at the request's commit) goes
ahead only under a permission both data controllers granted, not expired and at least as wide
as the declaration; anything else is refused with the action, field and reason, and nothing is
queued. The declaration and the permission it passed are public."""

from __future__ import annotations

import datetime

import pytest

from coordinator.helpers import snapshot
from coordinator.study_repo import study_repo
from fedsafe.coordinator.errors import CoordinatorError, FieldError
from fedsafe.coordinator.linkage_permissions import (
    create_permission,
    grant_permission,
    parse_tables,
    revoke_permission,
)
from fedsafe.coordinator.models import AuditEvent, Job, JobRequest, LinkageCheck
from fedsafe.coordinator.requests import RequestSpec, create_job_request
from fedsafe.coordinator.setup_records import add_backend, create_project, create_workspace

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
DAY = datetime.timedelta(days=1)

LINKAGE = """\
    linkage:
      backend: hospital
      tables:
        tpp.apcs:
          columns: [admission_date, primary_diagnosis]
          date_column: admission_date
      date_range: {start: 2020-01-01, end: 2023-12-31}
      coarsen_dates: month
"""


def project(linkage: str = LINKAGE, runs_on: str = "primary") -> str:
    return f"""\
version: '1'
actions:
  linked:
    run: fedsafe:v1 generate-dataset analysis/dataset_definition.py --output output/dataset.arrow
    backends: [{runs_on}]
{linkage}    outputs:
      highly_sensitive:
        dataset: output/dataset.arrow
  plain:
    run: python:v1 analysis/model.py
    outputs:
      moderately_sensitive:
        estimates: output/model.csv
"""


@pytest.fixture
def world(user, tmp_path):
    """Three backends and a project 'heart' (the study needs hospital rows on primary)."""
    for name in ("primary", "hospital", "other"):
        add_backend(name, "patients")
    heart = create_project(user, "heart")
    return heart


def workspace_at(user, heart, tmp_path, text: str, name: str = "study"):
    url, commit = study_repo(tmp_path / name, text)
    return create_workspace(user, heart, name, url, "main"), commit


def permission(**overrides):
    base = {
        "project": "heart",
        "requester": "primary",
        "provider": "hospital",
        "tables": {"tpp.apcs": ["admission_date", "primary_diagnosis", "discharge_date"]},
        "finest_dates": "month",
        "expires_at": datetime.datetime.now(UTC) + 30 * DAY,
        "date_range": (datetime.date(2019, 1, 1), datetime.date(2024, 12, 31)),
        "actor": "user:admin",
    }
    return create_permission(**{**base, **overrides})


def granted(p, now=None):
    grant_permission(p.pk, "primary", "Dr A", now=now)
    grant_permission(p.pk, "hospital", "Ms B", now=now)
    return p


def ask(user, ws, commit, actions="linked", backends=("primary",)):
    spec = RequestSpec(
        actions=actions,
        backends=list(backends) if isinstance(backends, tuple) else backends,
        reason="heart failure admissions",
        commit=commit,
    )
    return create_job_request(user, ws, spec)


def test_a_declared_linkage_under_an_active_permission_is_queued_and_public(
    client, user, world, tmp_path
):
    ws, commit = workspace_at(user, world, tmp_path, project())
    p = granted(permission())
    request = ask(user, ws, commit, actions="linked plain")
    assert sorted((j.backend.name, j.action) for j in request.jobs.all()) == [
        ("primary", "linked"),
        ("primary", "plain"),
    ]
    [check] = LinkageCheck.objects.filter(job_request=request)
    assert (check.action, check.runs_on, check.permission_id) == ("linked", "primary", p.pk)
    assert check.declaration["tables"]["tpp.apcs"]["columns"] == [
        "admission_date",
        "primary_diagnosis",
    ]
    assert [g["granted_by"] for g in check.permission_snapshot["grants"]] == ["Dr A", "Ms B"]
    audited = AuditEvent.objects.get(kind="linkage.checked", target=f"request:{request.pk}")
    assert audited.data["permission"] == p.pk and audited.data["action"] == "linked"
    assert (
        AuditEvent.objects.get(kind="request.created", target=f"request:{request.pk}").data[
            "linkage_checked"
        ]
        is True
    )
    for url in (f"/jobs/{request.pk}/", "/jobs/"):
        page = client.get(url).content.decode()  # public: no login
        for shown in (
            'data-action="linked"',
            "tpp.apcs",
            "admission_date, primary_diagnosis",
            "2020-01-01 to 2023-12-31",
            'coarsened to <span class="coarsen">month</span>',
            f"#{p.pk}</strong>",
            "Dr A for primary",
            "Ms B for hospital",
            p.expires_at.isoformat(),
            "no finer than month",
        ):
            assert shown in page, (url, shown)


def test_a_request_without_linkage_actions_needs_no_permission(user, world, tmp_path):
    ws, commit = workspace_at(user, world, tmp_path, project())
    request = ask(user, ws, commit, actions="plain", backends="all")
    assert request.jobs.count() == 3
    assert not LinkageCheck.objects.exists()


def assert_refused(user, ws, commit, says: list[str], field: str = "actions", **kw) -> FieldError:
    before = snapshot()
    checks = LinkageCheck.objects.count()
    with pytest.raises(FieldError) as caught:
        ask(user, ws, commit, **kw)
    assert caught.value.field == field
    for words in says:
        assert words in caught.value.message, (words, caught.value.message)
    assert snapshot() == before  # no request, no job, no audit record
    assert LinkageCheck.objects.count() == checks
    return caught.value


def test_no_permission_at_all_is_refused(user, world, tmp_path):
    ws, commit = workspace_at(user, world, tmp_path, project())
    assert_refused(
        user,
        ws,
        commit,
        ["action 'linked', linkage:", "there is no linkage permission for project 'heart'"],
    )


@pytest.mark.parametrize(
    ("linkage", "says"),
    [
        (
            LINKAGE.replace("backend: hospital", "backend: nowhere"),
            ["linkage.backend names backend 'nowhere', which is not a known backend"],
        ),
        (
            LINKAGE.replace("tpp.apcs:", "tpp.no_such_table:"),
            ["table tpp.no_such_table is not covered by the permission"],
        ),
        (
            LINKAGE.replace("primary_diagnosis]", "primary_diagnosis, no_such_column]"),
            ["columns no_such_column are not covered by the permission"],
        ),
        (
            LINKAGE.replace("end: 2023-12-31", "end: 2025-06-30"),
            ["the date range 2020-01-01 to 2025-06-30 is wider than the permission's"],
        ),
        (
            LINKAGE.replace("      date_range: {start: 2020-01-01, end: 2023-12-31}\n", ""),
            ["the declaration has no date_range"],
        ),
        (
            LINKAGE.replace("coarsen_dates: month", "coarsen_dates: day"),
            ["dates coarsened to day are finer than the permission allows"],
        ),
    ],
    ids=["unknown-backend", "unknown-table", "unknown-column", "wider-dates", "no-dates", "day"],
)
def test_a_declaration_the_permission_does_not_cover_is_refused(
    user, world, tmp_path, linkage, says
):
    granted(permission())
    ws, commit = workspace_at(user, world, tmp_path, project(linkage))
    assert_refused(user, ws, commit, ["action 'linked', linkage:", *says])


def test_columns_wider_than_the_permission_are_refused(user, world, tmp_path):
    granted(permission(tables={"tpp.apcs": ["admission_date"]}))
    ws, commit = workspace_at(user, world, tmp_path, project())
    assert_refused(
        user,
        ws,
        commit,
        ["tpp.apcs: columns primary_diagnosis are not covered by the permission"],
    )


def test_an_expired_permission_is_refused(user, world, tmp_path):
    long_ago = datetime.datetime.now(UTC) - 10 * DAY
    p = permission(now=long_ago, expires_at=long_ago + DAY)
    granted(p, now=long_ago)
    ws, commit = workspace_at(user, world, tmp_path, project())
    assert_refused(user, ws, commit, [f"the permission expired at {p.expires_at.isoformat()}"])


def test_a_permission_only_one_controller_granted_is_refused(user, world, tmp_path):
    p = permission()
    grant_permission(p.pk, "primary", "Dr A")
    ws, commit = workspace_at(user, world, tmp_path, project())
    assert_refused(user, ws, commit, ["the data controller of 'hospital' has not granted"])


def test_a_revoked_permission_is_refused(user, world, tmp_path):
    p = granted(permission())
    ws, commit = workspace_at(user, world, tmp_path, project())
    ask(user, ws, commit)  # accepted while it stands
    revoke_permission(p.pk, "the study ended", actor="user:admin")
    assert_refused(
        user, ws, commit, ["there is no linkage permission", "was revoked: the study ended"]
    )


def test_another_projects_permission_does_not_count(user, world, tmp_path):
    create_project(user, "other-study")
    granted(permission(project="other-study"))
    ws, commit = workspace_at(user, world, tmp_path, project())
    assert_refused(user, ws, commit, ["there is no linkage permission for project 'heart'"])


@pytest.mark.parametrize("backends", [("primary", "other"), ("hospital",), "all"])
def test_a_linkage_action_goes_only_to_the_backend_it_runs_on(user, world, tmp_path, backends):
    granted(permission())
    ws, commit = workspace_at(user, world, tmp_path, project())
    assert_refused(
        user,
        ws,
        commit,
        ["action 'linked', backends:", "into jobs on 'primary' only"],
        backends=backends,
    )


def test_a_malformed_linkage_block_is_refused(user, world, tmp_path):
    granted(permission())
    ws, commit = workspace_at(
        user, world, tmp_path, project(LINKAGE.replace("coarsen_dates", "coarsen"))
    )
    assert_refused(
        user, ws, commit, ["action 'linked', linkage:", "'coarsen' is not a linkage field"]
    )


def test_an_unreadable_repository_is_let_through_and_audited_as_unchecked(user, world, tmp_path):
    """The agents fetch the code themselves: a commit the coordinator cannot read is not refused
    here (as before), but its audit record says no linkage check was made."""
    ws, commit = workspace_at(user, world, tmp_path, project())
    ws.repo_url = f"file://{tmp_path}/gone.git"
    ws.save()
    request = ask(user, ws, commit, actions="plain")
    data = AuditEvent.objects.get(kind="request.created", target=f"request:{request.pk}").data
    assert data["linkage_checked"] is False
    assert "cannot fetch commit" in data["project_unread"]


def test_grants_and_revocation_are_audited_and_bad_ones_change_nothing(user, world):
    now = datetime.datetime.now(UTC)
    p = permission()
    assert not p.active_at(now)
    created = AuditEvent.objects.get(kind="linkage.permission_created")
    assert created.actor == "user:admin"
    assert created.data["tables"] == {
        "tpp.apcs": ["admission_date", "discharge_date", "primary_diagnosis"]
    }
    grant_permission(p.pk, "primary", "Dr A", actor="user:dra")
    assert not p.active_at(datetime.datetime.now(UTC))
    grant_permission(p.pk, "hospital", "Ms B", actor="user:msb")
    assert p.active_at(datetime.datetime.now(UTC))
    grants = AuditEvent.objects.filter(kind="linkage.granted").order_by("id")
    assert [
        (e.actor, e.data["backend"], e.data["granted_by"], e.data["active"]) for e in grants
    ] == [
        ("user:dra", "primary", "Dr A", False),
        ("user:msb", "hospital", "Ms B", True),
    ]
    before = (AuditEvent.objects.count(), p.grants.count())
    for bad, says in [
        (lambda: grant_permission(p.pk, "hospital", "Ms B"), "already granted"),
        (lambda: grant_permission(p.pk, "other", "Mr C"), "not 'other'"),
        (lambda: grant_permission(p.pk, "primary", "  "), "data controller's name"),
        (lambda: grant_permission(999, "primary", "Dr A"), "no linkage permission 999"),
        (lambda: revoke_permission(p.pk, ""), "say why"),
    ]:
        with pytest.raises(CoordinatorError, match=says):
            bad()
    assert (AuditEvent.objects.count(), p.grants.count()) == before
    revoke_permission(p.pk, "consent withdrawn", actor="user:msb")
    revoked = AuditEvent.objects.get(kind="linkage.revoked")
    assert (revoked.actor, revoked.data["reason"]) == ("user:msb", "consent withdrawn")
    p.refresh_from_db()
    assert not p.active_at(datetime.datetime.now(UTC))
    with pytest.raises(CoordinatorError, match="was revoked"):
        grant_permission(p.pk, "primary", "Dr A")
    with pytest.raises(CoordinatorError, match="already revoked"):
        revoke_permission(p.pk, "again")


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"project": "nope"}, "no project called 'nope'"),
        ({"provider": "nowhere"}, "no backend called 'nowhere'"),
        ({"provider": "primary"}, "cannot link to itself"),
        ({"tables": {}}, "at least one table"),
        ({"tables": {"tpp.apcs": ["patient_id"]}}, "patient_id is never sent"),
        ({"tables": {"Bad Table": ["x"]}}, "is not a table name"),
        ({"finest_dates": "week"}, "'week' is not one of"),
        ({"expires_at": datetime.datetime(2020, 1, 1, tzinfo=UTC)}, "is not in the future"),
        ({"expires_at": datetime.datetime(2099, 1, 1)}, "needs a time zone"),
        (
            {"date_range": (datetime.date(2024, 1, 1), datetime.date(2020, 1, 1))},
            "is after end",
        ),
    ],
)
def test_a_bad_permission_is_refused_and_changes_nothing(user, world, overrides, says):
    before = AuditEvent.objects.count()
    with pytest.raises(CoordinatorError, match=says):
        permission(**overrides)
    assert AuditEvent.objects.count() == before
    assert not JobRequest.objects.exists() and not Job.objects.exists()


def test_parse_tables_reads_the_command_lines_form():
    assert parse_tables(["tpp.apcs=admission_date, primary_diagnosis", "patients=sex"]) == {
        "tpp.apcs": ["admission_date", "primary_diagnosis"],
        "patients": ["sex"],
    }
    with pytest.raises(FieldError, match="expected TABLE=COLUMN"):
        parse_tables(["tpp.apcs"])


def test_the_request_form_shows_the_refusal_and_queues_nothing(client, user, world, tmp_path):
    ws, commit = workspace_at(user, world, tmp_path, project())
    client.force_login(user)
    before = snapshot()
    response = client.post(
        f"/workspaces/{ws.name}/",
        {"actions": "linked", "backend": ["primary"], "reason": "admissions", "commit": commit},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "action &#x27;linked&#x27;, linkage:" in page
    assert "there is no linkage permission for project &#x27;heart&#x27;" in page
    assert snapshot() == before
    granted(permission())
    accepted = client.post(
        f"/workspaces/{ws.name}/",
        {"actions": "linked", "backend": ["primary"], "reason": "admissions", "commit": commit},
    )
    assert accepted.status_code == 302
    assert LinkageCheck.objects.count() == 1
