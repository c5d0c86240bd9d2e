"""``fedsafe combine`` on the command line: it writes the folder, and bad input is one clear
line with no traceback."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from fedsafe.cli.main import app


def _released(root: Path) -> Path:
    for backend, text in (("a", "0.3,0.1"), ("b", "0.5,0.2")):
        folder = root / "released" / backend
        folder.mkdir(parents=True)
        (folder / "model.csv").write_text(f"term,estimate,std_error\nage,{text}\n")
    return root / "released"


def test_combine_writes_the_folder(tmp_path: Path) -> None:
    released = _released(tmp_path)
    result = CliRunner().invoke(app, ["combine", str(released), "--output", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert "combined 2 backends" in result.output
    assert (tmp_path / "c" / "meta" / "model.csv").is_file()


def test_combine_reports_bad_input_without_a_traceback(tmp_path: Path) -> None:
    released = _released(tmp_path)
    (released / "b" / "model.csv").write_text("term,estimate,std_error\nage,0.5,-1\n")
    result = CliRunner().invoke(app, ["combine", str(released), "-o", str(tmp_path / "c")])
    assert result.exit_code != 0
    assert "line 2, column 'std_error'" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "c").exists()


def test_combine_reads_the_policy_file(tmp_path: Path) -> None:
    released = _released(tmp_path)
    policy = tmp_path / "policy.json"
    policy.write_text('{"supress_at_or_below": 3}')
    result = CliRunner().invoke(
        app, ["combine", str(released), "-o", str(tmp_path / "c"), "--policy", str(policy)]
    )
    assert result.exit_code != 0
    assert "unknown setting 'supress_at_or_below'" in result.output
    assert not (tmp_path / "c").exists()
