"""A real backend folder for airlock tests: workspaces with outputs and manifests, and a config."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from fedsafe.airlock.config import hash_password
from fedsafe.disclosure.safe import safe_counts

PASSWORD = "correct horse battery"
# One scrypt hash shared by every test user: hashing is deliberately slow.
_HASH = hash_password(PASSWORD)

SAFE_CSV = "group,count\na,100\nb,250\n"
FAILING_CSV = "group,count\na,3\nb,250\n"


def write_output(workspace: Path, path: str, content: str | bytes, level: str) -> Path:
    file = workspace / path
    file.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    file.write_bytes(data)
    manifest_path = workspace / "metadata" / "manifest.json"
    manifest = (
        json.loads(manifest_path.read_text())
        if manifest_path.exists()
        else {"outputs": {}, "actions": {}}
    )
    manifest["outputs"][path] = {
        "action": "analyse",
        "level": level,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest))
    return file


def declare(workspace: Path, path: str, level: str = "moderately_sensitive") -> Path:
    """Record a file a helper already wrote (e.g. a sidecar) as an output, as the pipeline
    keeps every declared output."""
    return write_output(workspace, path, (workspace / path).read_bytes(), level)


def make_backend(
    root: Path,
    *,
    extra: str = "",
    coordinator: str | None = None,
    token: str = "backend-secret-token",
) -> Path:
    """Backend ``root`` with workspace ``study`` (and ``other``), researchers and checkers."""
    study = root / "workspaces" / "study"
    write_output(study, "output/table.csv", SAFE_CSV, "moderately_sensitive")
    write_output(study, "output/small.csv", FAILING_CSV, "moderately_sensitive")
    write_output(study, "output/notes.txt", "method notes\n", "moderately_sensitive")
    write_output(study, "output/chart.html", "<p>chart</p>", "moderately_sensitive")
    write_output(study, "output/dataset.csv", "patient_id,age\n1,40\n", "highly_sensitive")
    write_output(study, "output/model.pkl", b"\x80\x04", "moderately_sensitive")
    # Made by a safe helper, so it carries a sidecar of the rules that ran.
    measure = study / "output" / "measure.csv"
    measure.parent.mkdir(parents=True, exist_ok=True)
    safe_counts(["a"] * 120 + ["b"] * 240 + ["c"] * 3, measure, name="group")
    write_output(study, "output/measure.csv", measure.read_bytes(), "moderately_sensitive")
    declare(study, "output/measure.csv.disclosure.json")
    write_output(
        root / "workspaces" / "other", "output/secret.csv", SAFE_CSV, "moderately_sensitive"
    )
    users = {
        "rita": (["researcher"], ["study"]),
        "carl": (["output_checker"], ["study"]),
        "cora": (["output_checker"], ["study"]),
        "chad": (["output_checker", "researcher"], ["study"]),
        "olga": (["output_checker"], ["other"]),
    }
    lines = ["[airlock]", 'backend = "test-backend"', "max_file_bytes = 5000"]
    if coordinator:
        lines += [f'coordinator_url = "{coordinator}"', 'coordinator_token_file = "token"']
        (root / "airlock").mkdir(parents=True, exist_ok=True)
        (root / "airlock" / "token").write_text(token + "\n")
    lines.append(extra)
    for name, (roles, workspaces) in users.items():
        lines += [
            f"[users.{name}]",
            f'password_hash = "{_HASH}"',
            f"roles = {json.dumps(roles)}",
            f"workspaces = {json.dumps(workspaces)}",
        ]
    (root / "airlock").mkdir(parents=True, exist_ok=True)
    (root / "airlock" / "config.toml").write_text("\n".join(lines) + "\n")
    return root
