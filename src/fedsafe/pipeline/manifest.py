"""``metadata/manifest.json``: every output in the workspace, and how each action last ran.

For each output file: the action that wrote it, its privacy level, size and sha256, which is
what an output checker and the airlock need. For each action: the fingerprint of what it ran
with (runtime, command, config, code, inputs) and whether it succeeded, which is what lets
``fedsafe run`` skip an action whose inputs have not changed. It is written atomically (to a
temporary file, then renamed), so a crash mid-write leaves the previous manifest whole.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fedsafe.pipeline.errors import ProjectError

__all__ = ["ActionRecord", "Manifest", "OutputRecord", "sha256_file"]

MANIFEST = Path("metadata") / "manifest.json"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class OutputRecord:
    action: str
    level: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ActionRecord:
    fingerprint: str
    status: str  # "succeeded" or "failed"
    finished_at: str
    outputs: tuple[str, ...] = ()


@dataclass
class Manifest:
    """The manifest in memory; :meth:`save` writes it back."""

    outputs: dict[str, OutputRecord] = field(default_factory=dict)
    actions: dict[str, ActionRecord] = field(default_factory=dict)

    @classmethod
    def load(cls, workspace: Path) -> Manifest:
        path = workspace / MANIFEST
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                outputs={k: OutputRecord(**v) for k, v in data["outputs"].items()},
                actions={
                    k: ActionRecord(**{**v, "outputs": tuple(v.get("outputs", ()))})
                    for k, v in data["actions"].items()
                },
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ProjectError(
                f"the manifest is damaged ({exc}); delete the metadata folder to start afresh "
                "(every action will run again)",
                file=str(MANIFEST),
            ) from None

    def save(self, workspace: Path) -> None:
        path = workspace / MANIFEST
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "outputs": {k: asdict(v) for k, v in sorted(self.outputs.items())},
            "actions": {
                k: {**asdict(v), "outputs": list(v.outputs)}
                for k, v in sorted(self.actions.items())
            },
        }
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)

    def record(
        self,
        workspace: Path,
        action: str,
        fingerprint: str,
        finished_at: str,
        outputs: dict[str, str] | None,
    ) -> None:
        """Record a run: ``outputs`` maps each kept path to its level, or is None on failure."""
        if outputs is None:
            previous = self.actions.get(action)
            kept = previous.outputs if previous else ()
            self.actions[action] = ActionRecord(fingerprint, "failed", finished_at, kept)
            return
        for path in [p for p, r in self.outputs.items() if r.action == action]:
            del self.outputs[path]
        for path, level in sorted(outputs.items()):
            file = workspace / path
            self.outputs[path] = OutputRecord(action, level, file.stat().st_size, sha256_file(file))
        self.actions[action] = ActionRecord(
            fingerprint, "succeeded", finished_at, tuple(sorted(outputs))
        )

    def up_to_date(self, workspace: Path, action: str, fingerprint: str) -> bool:
        """Whether ``action`` last succeeded with this fingerprint and its outputs are intact."""
        record = self.actions.get(action)
        if record is None or record.status != "succeeded" or record.fingerprint != fingerprint:
            return False
        for path in record.outputs:
            file = workspace / path
            output = self.outputs.get(path)
            if output is None or not file.is_file() or file.stat().st_size != output.size:
                return False
            if sha256_file(file) != output.sha256:
                return False
        return True

    def outputs_of(self, action: str) -> dict[str, OutputRecord]:
        return {p: r for p, r in self.outputs.items() if r.action == action}


def as_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
