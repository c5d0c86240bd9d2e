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


def test_ledger_option_catches_differencing_with_an_earlier_release(tmp_path):
    """#16 point 6: all patients were released; males now differ from them by 5 aged 65+."""
    from fedsafe.disclosure.ledger import ReleaseLedger

    (tmp_path / "all.csv").write_text("age_band,n\n0-64,100\n65+,40\n")
    ReleaseLedger(tmp_path / "ledger").record_file(
        tmp_path / "all.csv", backend="tpp", project="p1", released_by="alice"
    )
    (tmp_path / "out").mkdir()
    males = tmp_path / "out" / "males.csv"
    males.write_text("age_band,n\n0-64,50\n65+,35\n")
    (tmp_path / "out" / "males.csv.disclosure.json").write_text(
        json.dumps({"columns": {"age_band": "label", "n": "count"},
                    "release": {"filters": {"sex": ["M"]}}})
    )  # fmt: skip
    assert run(males).exit_code == 0  # alone it is safe
    result = run(males, "--ledger", tmp_path / "ledger", "--backend", "tpp")
    assert result.exit_code == 4, result.output
    assert "differencing_across_releases" in result.output and "all.csv" in result.output
    assert run(males, "--ledger", tmp_path / "ledger", "--backend", "emis").exit_code == 0
    assert len(ReleaseLedger(tmp_path / "ledger").entries()) == 1  # checking records nothing


def test_a_broken_ledger_exits_two(tmp_path):
    (tmp_path / "t.csv").write_text("g,n\nA,10\n")
    (tmp_path / "ledger").write_text("not a folder")
    result = run(tmp_path / "t.csv", "--ledger", tmp_path / "ledger")
    assert result.exit_code == 2 and "needs a folder" in result.output
    result = run(tmp_path / "t.csv", "--ledger", tmp_path / "mistyped")
    assert result.exit_code == 2 and "no release ledger here" in result.output
    assert not (tmp_path / "mistyped").exists()
