"""Isolation, tested as attacks: each action below tries to break a rule, and must not manage.

Every attack script records what happened to each attempt in its output, so the test can see
the attempt was really made and really refused (rather than, say, the script crashing first).
"""

from __future__ import annotations

import json
import socket
import textwrap
from pathlib import Path

import pytest

from fedsafe.executors.confine import main as confine_main
from fedsafe.pipeline.runner import RunSummary, run_project

PRODUCER = """\
import pathlib
pathlib.Path("output").mkdir(exist_ok=True)
pathlib.Path("output/secret.csv").write_text("patient_id\\n1\\n")
"""

# Tries each path given on the command line and records what happened.
READER = """\
import json, pathlib, sys
results = {}
for path in sys.argv[1:]:
    if path.startswith("--"):
        break
    try:
        results[path] = "read:" + pathlib.Path(path).read_text()
    except Exception as exc:
        results[path] = type(exc).__name__
pathlib.Path("output").mkdir(exist_ok=True)
pathlib.Path("output/result.json").write_text(json.dumps(results))
"""

WRITER = """\
import json, pathlib, sys
results = {}
for path in sys.argv[1:]:
    try:
        pathlib.Path(path).write_text("written by an action\\n")
        results[path] = "written"
    except Exception as exc:
        results[path] = type(exc).__name__
pathlib.Path("output").mkdir(exist_ok=True)
pathlib.Path("output/result.json").write_text(json.dumps(results))
"""


def make_project(root: Path, actions: str, scripts: dict[str, str]) -> Path:
    (root / "analysis").mkdir(parents=True)
    for name, text in scripts.items():
        (root / "analysis" / name).write_text(text)
    (root / "project.yaml").write_text("version: '1'\nactions:\n" + textwrap.indent(actions, "  "))
    return root


def statuses(summary: RunSummary) -> dict[str, str]:
    return {o.name: o.status for o in summary.outcomes}


def result(project: Path) -> dict[str, str]:
    return json.loads((project / "output/result.json").read_text())


def reader_project(tmp_path: Path, needs: str) -> Path:
    project = tmp_path / "project"
    secret = project / "output/secret.csv"
    actions = f"""\
producer:
  run: python:v1 analysis/producer.py
  outputs:
    highly_sensitive:
      data: output/secret.csv
reader:
  run: python:v1 analysis/reader.py output/secret.csv {secret}
  {needs}
  outputs:
    highly_sensitive:
      result: output/result.json
"""
    return make_project(project, actions, {"producer.py": PRODUCER, "reader.py": READER})


def test_an_action_cannot_read_an_output_it_does_not_need(tmp_path: Path) -> None:
    project = reader_project(tmp_path, needs="")
    summary = run_project(project, ["all"])
    assert statuses(summary) == {"producer": "succeeded", "reader": "succeeded"}
    secret = str(project / "output/secret.csv")
    assert result(project) == {
        "output/secret.csv": "FileNotFoundError",  # not copied into its folder
        secret: "PermissionError",  # and the real workspace is out of its reach
    }


def test_the_same_action_reads_it_once_it_declares_the_need(tmp_path: Path) -> None:
    project = reader_project(tmp_path, needs="needs: [producer]")
    run_project(project, ["all"])
    secret = str(project / "output/secret.csv")
    assert result(project) == {
        "output/secret.csv": "read:patient_id\n1\n",  # its own copy
        secret: "PermissionError",  # still never the workspace itself
    }


def test_writing_outside_its_folder_changes_nothing_outside(tmp_path: Path) -> None:
    project = tmp_path / "project"
    outside = tmp_path / "outside"
    outside.mkdir()
    targets = [
        str(project / "project.yaml"),  # rewrite the pipeline
        str(project / "analysis" / "planted.py"),  # plant code in the workspace
        str(project / "output" / "secret.csv"),  # overwrite another action's output
        str(outside / "exfiltrated.txt"),  # anywhere else on the machine
        "../escaped.txt",  # just above its own folder
        "/tmp/fedsafe-attack-escaped.txt",
    ]
    actions = f"""\
producer:
  run: python:v1 analysis/producer.py
  outputs:
    highly_sensitive:
      data: output/secret.csv
writer:
  run: python:v1 analysis/writer.py {" ".join(targets)}
  needs: [producer]
  outputs:
    highly_sensitive:
      result: output/result.json
"""
    make_project(project, actions, {"producer.py": PRODUCER, "writer.py": WRITER})
    project_yaml = (project / "project.yaml").read_text()
    Path("/tmp/fedsafe-attack-escaped.txt").unlink(missing_ok=True)
    summary = run_project(project, ["all"])
    assert statuses(summary) == {"producer": "succeeded", "writer": "succeeded"}
    assert result(project) == dict.fromkeys(targets, "PermissionError")
    assert (project / "project.yaml").read_text() == project_yaml
    assert not (project / "analysis" / "planted.py").exists()
    assert (project / "output/secret.csv").read_text() == "patient_id\n1\n"
    assert list(outside.iterdir()) == []
    assert not Path("/tmp/fedsafe-attack-escaped.txt").exists()


def test_changing_its_copy_of_an_input_does_not_change_the_original(tmp_path: Path) -> None:
    project = tmp_path / "project"
    actions = """\
producer:
  run: python:v1 analysis/producer.py
  outputs:
    highly_sensitive:
      data: output/secret.csv
writer:
  run: python:v1 analysis/writer.py output/secret.csv
  needs: [producer]
  outputs:
    highly_sensitive:
      result: output/result.json
"""
    make_project(project, actions, {"producer.py": PRODUCER, "writer.py": WRITER})
    run_project(project, ["all"])
    assert result(project) == {"output/secret.csv": "written"}  # it changed its own copy
    assert (project / "output/secret.csv").read_text() == "patient_id\n1\n"


def test_undeclared_files_are_dropped_with_a_did_you_mean_hint(tmp_path: Path) -> None:
    script = """\
import pathlib
for name in ["output/summary.csv", "output/sumary.csv", "results/summary.csv", "notes.txt"]:
    pathlib.Path(name).parent.mkdir(exist_ok=True)
    pathlib.Path(name).write_text("n\\n1\\n")
"""
    actions = """\
summarise:
  run: python:v1 analysis/summarise.py
  outputs:
    moderately_sensitive:
      table: output/summary.csv
"""
    project = make_project(tmp_path / "project", actions, {"summarise.py": script})
    summary = run_project(project, ["all"])
    (outcome,) = summary.outcomes
    assert outcome.status == "succeeded"
    assert outcome.warnings == (
        "notes.txt matches none of the action's outputs, so it was not kept; declare it under "
        "the action's outputs if it should be kept",
        "output/sumary.csv matches none of the action's outputs, so it was not kept; did you "
        "mean 'output/summary.csv'?",
        "results/summary.csv matches none of the action's outputs, so it was not kept; did you "
        "mean to write it as 'output/summary.csv'? (the name fits but the folder does not)",
    )
    assert (project / "output/summary.csv").exists()
    for dropped in ("output/sumary.csv", "results", "notes.txt"):
        assert not (project / dropped).exists()
    log = (project / "metadata/summarise.log").read_text()
    assert "did you mean 'output/summary.csv'?" in log


def test_the_environment_is_scrubbed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://admin:hunter2@db/records")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret")
    monkeypatch.setenv("PGPASSWORD", "pg-hunter3")
    script = """\
import json, os, pathlib
pathlib.Path("output").mkdir(exist_ok=True)
pathlib.Path("output/env.json").write_text(json.dumps(dict(os.environ)))
"""
    actions = """\
snoop:
  run: python:v1 analysis/snoop.py
  outputs:
    highly_sensitive:
      env: output/env.json
"""
    project = make_project(tmp_path / "project", actions, {"snoop.py": script})
    assert statuses(run_project(project, ["all"])) == {"snoop": "succeeded"}
    env = json.loads((project / "output/env.json").read_text())
    assert "hunter2" not in json.dumps(env)
    assert "very-secret" not in json.dumps(env)
    assert "pg-hunter3" not in json.dumps(env)
    assert set(env) <= {
        "PATH",
        "LANG",
        "LC_ALL",
        "HOME",
        "TMPDIR",
        "PYTHONHASHSEED",
        "MPLBACKEND",
        "MPLCONFIGDIR",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONPATH",  # the helpers layer of python:v1
        "LC_CTYPE",  # Python sets this itself under a C.UTF-8 locale
    }
    assert "FEDSAFE_CACHE_DIR" in __import__("os").environ  # ours was set, yet not passed on


def test_an_action_cannot_reach_the_network(tmp_path: Path) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    script = f"""\
import json, pathlib, socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=5)
    outcome = "connected"
except OSError as exc:
    outcome = type(exc).__name__
pathlib.Path("output").mkdir(exist_ok=True)
pathlib.Path("output/result.json").write_text(json.dumps({{"connect": outcome}}))
"""
    actions = """\
phone_home:
  run: python:v1 analysis/phone_home.py
  outputs:
    highly_sensitive:
      result: output/result.json
"""
    project = make_project(tmp_path / "project", actions, {"phone_home.py": script})
    try:
        run_project(project, ["all"])
        assert result(project)["connect"] != "connected"
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody knocked
    finally:
        listener.close()


def test_a_symbolic_link_is_never_kept_as_an_output(tmp_path: Path) -> None:
    script = """\
import os, pathlib
pathlib.Path("output").mkdir(exist_ok=True)
os.symlink("/etc/passwd", "output/table.csv")
"""
    actions = """\
linker:
  run: python:v1 analysis/linker.py
  outputs:
    moderately_sensitive:
      table: output/table.csv
"""
    project = make_project(tmp_path / "project", actions, {"linker.py": script})
    (outcome,) = run_project(project, ["all"]).outcomes
    assert outcome.status == "failed"
    assert "symbolic links are never kept" in outcome.warnings[0]
    assert not (project / "output/table.csv").exists()


def test_symbolic_links_in_the_project_are_not_followed_into_an_action(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not part of the project\n")
    actions = """\
reader:
  run: python:v1 analysis/reader.py analysis/link.txt
  outputs:
    highly_sensitive:
      result: output/result.json
"""
    project = make_project(tmp_path / "project", actions, {"reader.py": READER})
    (project / "analysis/link.txt").symlink_to(outside)
    run_project(project, ["all"])
    assert result(project) == {"analysis/link.txt": "FileNotFoundError"}


def test_the_confining_wrapper_refuses_a_malformed_call(capsys: pytest.CaptureFixture[str]) -> None:
    assert confine_main(["{}"]) == 2
    assert "usage" in capsys.readouterr().err


def test_its_working_directory_holds_only_its_code_and_declared_inputs(tmp_path: Path) -> None:
    lister = """\
import json, os, pathlib
found = sorted(
    os.path.relpath(os.path.join(folder, name))
    for folder, _, names in os.walk(".")
    for name in names
)
pathlib.Path("output/listing.json").write_text(json.dumps(found))
"""
    other = PRODUCER.replace("secret.csv", "other.csv")
    actions = """\
producer:
  run: python:v1 analysis/producer.py
  outputs:
    highly_sensitive:
      data: output/secret.csv
other:
  run: python:v1 analysis/other.py
  outputs:
    highly_sensitive:
      data: output/other.csv
lister:
  run: python:v1 analysis/lister.py
  needs: [producer]
  outputs:
    highly_sensitive:
      listing: output/listing.json
"""
    scripts = {"producer.py": PRODUCER, "other.py": other, "lister.py": lister}
    project = make_project(tmp_path / "project", actions, scripts)
    (project / ".git").mkdir()
    (project / ".git" / "config").write_text("[core]\n")
    (project / "notes").mkdir()
    (project / "notes" / "plan.md").write_text("the plan\n")
    assert statuses(run_project(project, ["other"])) == {"other": "succeeded"}
    assert (project / "output/other.csv").exists()  # there to be seen, were it copied
    assert statuses(run_project(project, ["lister"])) == {
        "producer": "succeeded",
        "lister": "succeeded",
    }
    listing = json.loads((project / "output/listing.json").read_text())
    assert listing == [
        "analysis/lister.py",
        "analysis/other.py",
        "analysis/producer.py",
        "notes/plan.md",
        "output/secret.csv",  # the one input it declared; not other.csv, not metadata, not .git
        "project.yaml",
    ]
