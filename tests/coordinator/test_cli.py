"""``fedsafe coordinator ...`` from the shell: tokens shown once and stored hashed, bad input
refused with ``error: ...`` and exit status 2, changing nothing."""

from __future__ import annotations

from coordinator.live import bare_repo, cli, in_coordinator, query, seed


def test_add_backend_prints_its_token_once_and_stores_only_a_hash(sqlite_url):
    added = cli("add-backend", "north", "--provides", "patients, events", database=sqlite_url)
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert token.startswith("fsb_") and len(token) > 40
    assert "shown only now" in added.stderr
    path = sqlite_url.removeprefix("sqlite:///")
    with open(path, "rb") as db:
        assert token.encode() not in db.read()
    assert query(sqlite_url, "SELECT name, provides FROM coordinator_backend") == [
        ("north", '["events", "patients"]')
    ]
    again = cli("issue-token", "north", database=sqlite_url).stdout.strip()
    assert again.startswith("fsb_") and again != token


def test_createuser_reads_the_password_from_stdin(sqlite_url):
    made = cli(
        "createuser", "alice", "--password-stdin", database=sqlite_url, stdin="a good password\n"
    )
    assert made.returncode == 0, made.stderr
    assert query(sqlite_url, "SELECT username FROM auth_user") == [("alice",)]


def test_bad_input_is_refused_and_changes_nothing(sqlite_url):
    cli("add-backend", "north", database=sqlite_url)
    before = query(sqlite_url, "SELECT count(*) FROM coordinator_auditevent")
    cases = [
        (["add-backend", "North"], "error: name: 'North' is not a valid name"),
        (["add-backend", "north"], "error: name: a backend called 'north' already exists"),
        (["add-backend", "south", "--provides", "Pat-ients"], "error: provides: 'Pat-ients'"),
        (["revoke-backend", "nowhere"], "error: no backend called 'nowhere'"),
        (["createuser", "bob", "--password-stdin"], "error: password: use at least 10"),
    ]
    for args, message in cases:
        done = cli(*args, database=sqlite_url, stdin="short\n")
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith(message), (args, done.stderr)
    assert query(sqlite_url, "SELECT count(*) FROM coordinator_auditevent") == before
    assert query(sqlite_url, "SELECT count(*) FROM coordinator_backend") == [(1,)]


def test_a_bad_database_url_is_refused_before_anything_starts(tmp_path):
    done = cli("serve", database="mysql://x/y")
    assert done.returncode == 2
    assert done.stderr.startswith("error: --database: 'mysql://x/y' is not a sqlite")
    done = cli("serve", database=f"sqlite:///{tmp_path}/missing/c.db")
    assert done.returncode == 2
    assert "does not exist" in done.stderr


def test_run_schedules_fires_a_due_schedule_at_the_branch_head(sqlite_url, tmp_path):
    repo_url, head = bare_repo(tmp_path)
    seed(sqlite_url, {"north": "events"})
    in_coordinator(
        sqlite_url,
        f"""
from datetime import UTC, datetime
from fedsafe.coordinator.schedules import create_schedule
ws = create_workspace(User.objects.get(), Project.objects.get(), "nightly", {repo_url!r}, "main")
spec = RequestSpec(actions="measures", backends="all", reason="nightly", needed_tables="events")
long_ago = datetime(2020, 1, 1, tzinfo=UTC)
result = create_schedule(User.objects.get(), ws, "0 2 * * *", spec, long_ago).pk
""",
    )
    done = cli("run-schedules", "--once", database=sqlite_url)
    assert done.returncode == 0, done.stderr
    assert "request 1" in done.stderr
    assert query(sqlite_url, 'SELECT "commit", requested_backends FROM coordinator_jobrequest') == [
        (head, '"all"')
    ]
    again = cli("run-schedules", "--once", database=sqlite_url)
    assert again.returncode == 0 and "request" not in again.stderr
    assert query(sqlite_url, "SELECT count(*) FROM coordinator_jobrequest") == [(1,)]
