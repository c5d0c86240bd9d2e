from datetime import UTC, datetime

import pytest

from fedsafe.coordinator.dburl import database_settings
from fedsafe.coordinator.errors import FieldError
from fedsafe.coordinator.validation import (
    check_actions,
    check_backend_choice,
    check_branch,
    check_commit,
    check_cron,
    check_name,
    check_reason,
    check_repo_url,
    check_tables,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/org/study.git",
        "ssh://git@example.org/org/study.git",
        "git@github.com:org/study.git",
        "file:///srv/repos/study.git",
    ],
)
def test_git_urls_accepted(url):
    assert check_repo_url(url) == url


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "repository URL"),
        ("http://example.org/x.git", "not an https"),
        ("ext::sh -c touch% /tmp/pwned", "repository URL"),
        ("ext::sh", "not an https"),
        ("https://user:secret@example.org/x.git", "credentials"),
        ("https://token@example.org/x.git", "credentials"),
        ("file://host/x.git", "file:///"),
        ("https:///x.git", "no host"),
        ("/srv/x.git", "not an https"),
    ],
)
def test_bad_git_urls_refused_naming_the_field(url, says):
    with pytest.raises(FieldError, match=says) as caught:
        check_repo_url(url)
    assert caught.value.field == "repo_url"


@pytest.mark.parametrize("branch", ["main", "feature/x-1", "release-2.0"])
def test_branches_accepted(branch):
    assert check_branch(branch) == branch


@pytest.mark.parametrize(
    "branch",
    ["", "-x", "a..b", "a b", "a~1", "x.lock", "a/", "/a", "a//b", ".hidden", "a@{1}", "a:b"],
)
def test_bad_branches_refused(branch):
    with pytest.raises(FieldError) as caught:
        check_branch(branch)
    assert caught.value.field == "branch"


@pytest.mark.parametrize(
    ("check", "value", "field"),
    [
        (lambda v: check_name("name", v), "Has Space", "name"),
        (lambda v: check_name("name", v), "", "name"),
        (check_commit, "abc123", "commit"),
        (check_commit, "g" * 40, "commit"),
        (check_actions, "", "actions"),
        (check_actions, "a a", "actions"),
        (check_actions, "../x", "actions"),
        (check_tables, "Patients", "needed_tables"),
        (check_backend_choice, "", "backends"),
        (check_backend_choice, "North", "backends"),
        (check_reason, "", "reason"),
        (check_reason, "x" * 501, "reason"),
        (lambda v: check_cron(v, NOW), "every day", "cron"),
        (lambda v: check_cron(v, NOW), "* * *", "cron"),
        (lambda v: check_cron(v, NOW), "61 * * * *", "cron"),
    ],
)
def test_bad_fields_are_named(check, value, field):
    with pytest.raises(FieldError) as caught:
        check(value)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_lists_are_split_and_tables_sorted():
    assert check_actions("a, b c") == ["a", "b", "c"]
    assert check_tables("patients events,patients") == ["events", "patients"]
    assert check_backend_choice("all") == "all"
    assert check_backend_choice("north, south") == ["north", "south"]
    assert check_cron(" 0  3 * * 1 ", NOW) == "0 3 * * 1"


def test_database_urls(tmp_path):
    sqlite = database_settings(f"sqlite:///{tmp_path}/c.db")
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3"
    assert sqlite["NAME"] == f"{tmp_path}/c.db"
    pg = database_settings("postgresql://me:p%40ss@db.example:5433/coord")
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "me",
        "p@ss",
        "db.example",
        "5433",
        "coord",
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://x/y", "not a sqlite"),
        ("sqlite://relative.db", "three slashes"),
        ("sqlite:////no/such/folder/c.db", "does not exist"),
        ("postgresql://me:secret@host/", "names no database"),
    ],
)
def test_bad_database_urls(url, says):
    with pytest.raises(FieldError, match=says) as caught:
        database_settings(url)
    assert caught.value.field == "--database"
    assert "secret" not in str(caught.value)
