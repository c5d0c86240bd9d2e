"""A study's git repository for release and combine tests (no Django needed, so the airlock's
tests can use it against a live coordinator too)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

PROJECT = """\
version: '1'
actions:
  model:
    run: python:v1 analysis/model.py
    outputs:
      moderately_sensitive:
        estimates: output/model.csv
  notes:
    run: python:v1 analysis/notes.py
    outputs:
      moderately_sensitive:
        notes: output/notes.txt
  combine:
    run: fedsafe:v1 combine released --output output/combined
    needs_released: [model]
    outputs:
      moderately_sensitive:
        tables: output/combined/**/*.csv
        records: output/combined/**/*.json
        svg: output/combined/**/*.svg
        png: output/combined/**/*.png
"""

NO_COMBINE = """\
version: '1'
actions:
  model:
    run: python:v1 analysis/model.py
    outputs:
      moderately_sensitive:
        estimates: output/model.csv
"""


def estimates(*rows: tuple[str, float, float]) -> bytes:
    return (
        "term,estimate,std_error\n" + "".join(f"{t},{e!r},{s!r}\n" for t, e, s in rows)
    ).encode()


def study_repo(
    folder: Path, project: str = PROJECT, files: dict[str, str] | None = None
) -> tuple[str, str]:
    """A bare git repository holding ``project.yaml`` (and ``files``, path -> text); returns
    its file:// URL and commit."""
    work, bare = folder / "work", folder / "study.git"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "-c", "init.defaultBranch=main", "init", "-q", str(work)], check=True)
    (work / "project.yaml").write_text(project)
    for path, text in (files or {}).items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    subprocess.run([*git, "-C", str(work), "add", "."], check=True)
    subprocess.run([*git, "-C", str(work), "commit", "-qm", "study"], check=True)
    subprocess.run([*git, "clone", "-q", "--bare", str(work), str(bare)], check=True)
    head = subprocess.run(
        ["git", "-C", str(bare), "rev-parse", "main"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return f"file://{bare}", head


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
