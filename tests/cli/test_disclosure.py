"""``fedsafe check-outputs``: findings printed, exit status says the worst result."""

import json

import pytest
from typer.testing import CliRunner

from fedsafe.cli.main import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, ["check-outputs", *map(str, args)])


@pytest.fixture
def files(tmp_path):
    (tmp_path / "safe.csv").write_text("group,n\nA,10\nB,[REDACTED]\n")
    (tmp_path / "bad.csv").write_text("group,n\nA,10\nB,3\n")
    (tmp_path / "review.csv").write_text("group,mean_age\nA,40.5\nB,51.25\n")
    return tmp_path


def test_all_pass_exits_zero(files):
    result = run(files / "safe.csv")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("PASS")


def test_a_failing_file_exits_four_and_names_the_cell(files):
    result = run(files / "safe.csv", files / "bad.csv")
    assert result.exit_code == 4
    assert "row 2 (line 3), column 'n': count 3 is at or below 7" in result.output


def test_needs_review_exits_three(files):
    assert run(files / "review.csv").exit_code == 3


def test_json_output(files):
    result = run("--json", files / "bad.csv")
    reports = json.loads(result.output)
    assert reports[0]["status"] == "fail"
    assert reports[0]["findings"][0]["row"] == 2


def test_policy_file_changes_the_rules(files, tmp_path):
    policy = tmp_path / "backend.toml"
    policy.write_text("[disclosure]\nsuppress_at_or_below = 2\nrounding = 'none'\n")
    assert run("--policy", policy, files / "bad.csv").exit_code == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[disclosure]\nround = 5\n", "backend.toml [disclosure]: unknown setting 'round'"),
        ("[disclosure\n", "backend.toml: not valid TOML"),
        ("rounding = 'up'\n", "rounding must be one of nearest, midpoint, none"),
    ],
)
def test_bad_policy_file_exits_two_with_message(files, tmp_path, text, expected):
    policy = tmp_path / "backend.toml"
    policy.write_text(text)
    result = run("--policy", policy, files / "safe.csv")
    assert result.exit_code == 2
    assert expected in result.output


def test_unreadable_file_exits_two_after_checking_the_rest(files):
    (files / "broken.csv").write_text("a,b\n1\n")
    result = run(files / "broken.csv", files / "safe.csv")
    assert result.exit_code == 2
    assert "broken.csv, line 2: 1 fields, but the header has 2" in result.output
    assert "PASS" in result.output


def test_a_folder_is_checked_file_by_file(files):
    (files / "plot.png").write_bytes(b"\x89PNG")
    result = run(files)
    assert result.exit_code == 4  # bad.csv fails
    for name in ("bad.csv", "plot.png", "review.csv", "safe.csv"):
        assert name in result.output
    assert "NEEDS REVIEW  " + str(files / "plot.png") in result.output
