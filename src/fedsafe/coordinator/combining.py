"""The combine step on the coordinator: once every backend a job request ran on has completed
a release for it, run the workspace's combine actions over those released files.

What runs is exactly what ``project.yaml`` (at the request's commit) declares: for each
``fedsafe:v1 combine`` action, the released outputs of its ``needs_released`` actions are laid
out as ``released/<backend>/<path>`` in a temporary folder and ``fedsafe combine`` runs over
them, in a process of its own. The web process never imports the combining code (which brings
the disclosure package, kept out of the coordinator by an import-linter contract), and a crash
or runaway combine cannot take the server down; it has a time limit. Its outputs are kept in
the content-addressed store as ``CombinedFile`` rows of a ``CombineRun``, which records the
inputs (backend, path, hash, release request) as provenance. A failure is recorded on the run,
shown on the results page, and raised to nobody: the release that triggered it stands.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from fedsafe.coordinator import audit
from fedsafe.coordinator.gitfiles import read_files_at
from fedsafe.coordinator.models import JobRequest
from fedsafe.coordinator.release_models import (
    CombinedFile,
    CombineRun,
    CombineState,
    Release,
    ReleasedFile,
)
from fedsafe.coordinator.releases import blob_store
from fedsafe.errors import FedsafeError
from fedsafe.pipeline.model import PROJECT_FILE, Action, parse_project

__all__ = ["Input", "combine_if_ready", "combine_pending", "ready_inputs"]

ACTOR = "system:combine"
MAX_ERROR = 4000


@dataclass(frozen=True)
class Input:
    """One released file a combine step reads, with where it came from."""

    backend: str
    path: str
    sha256: str
    request_id: str

    def as_dict(self) -> dict[str, str]:
        return {
            "backend": self.backend,
            "path": self.path,
            "sha256": self.sha256,
            "request_id": self.request_id,
        }


def ready_inputs(job_request: JobRequest) -> list[Input] | None:
    """Every file released for ``job_request`` by its backends, or None while any backend it
    ran on has not completed a release for it. A backend that released several requests for
    one run contributes all their files; for a path released twice the later release wins."""
    targeted = set(job_request.jobs.values_list("backend_id", flat=True))
    releases = list(
        Release.objects.filter(job_request=job_request, completed_at__isnull=False)
        .select_related("backend")
        .order_by("completed_at", "id")
    )
    if not targeted or not targeted <= {r.backend_id for r in releases}:
        return None
    chosen: dict[tuple[str, str], Input] = {}
    files = ReleasedFile.objects.filter(release__in=releases).select_related("backend", "release")
    order = {r.pk: n for n, r in enumerate(releases)}
    for file in sorted(files, key=lambda f: (order[f.release_id], f.path)):
        chosen[(file.backend.name, file.path)] = Input(
            file.backend.name, file.path, file.sha256, file.request_id
        )
    return [chosen[k] for k in sorted(chosen)]


def combine_if_ready(job_request_id: int) -> list[CombineRun]:
    """Run the workspace's combine actions for this job request if every backend has
    released; returns the runs made now (none when waiting or already combined)."""
    job_request = JobRequest.objects.select_related("workspace").get(pk=job_request_id)
    inputs = ready_inputs(job_request)
    if inputs is None:
        return []
    return _combine(job_request, inputs)


def combine_pending(limit: int = 20) -> list[CombineRun]:
    """Catch up on job requests whose releases are complete but were never combined (e.g.
    the server stopped mid-way); called by ``fedsafe coordinator run-schedules``."""
    candidates = (
        JobRequest.objects.filter(releases__completed_at__isnull=False, combine_runs__isnull=True)
        .distinct()
        .order_by("-created_at")[:limit]
    )
    made: list[CombineRun] = []
    for job_request in candidates:
        made += combine_if_ready(job_request.pk)
    return made


def _fingerprint(commit: str, action: str, inputs: Iterable[Input]) -> str:
    parts = {"commit": commit, "action": action, "inputs": [i.as_dict() for i in inputs]}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _start(job_request: JobRequest, action: str, inputs: list[Input]) -> CombineRun | None:
    """A new run, or None if these inputs were already combined (or are being)."""
    try:
        with transaction.atomic():
            run = CombineRun.objects.create(
                workspace=job_request.workspace,
                job_request=job_request,
                action=action,
                commit=job_request.commit,
                fingerprint=_fingerprint(job_request.commit, action, inputs),
                state=CombineState.RUNNING,
                inputs=[i.as_dict() for i in inputs],
                started_at=timezone.now(),
            )
            audit.record(
                ACTOR,
                "combine.started",
                f"combine:{run.pk}",
                workspace=job_request.workspace.name,
                job_request=job_request.pk,
                action=action,
                inputs=len(inputs),
            )
    except IntegrityError:
        return None
    return run


def _finish(run: CombineRun, state: str, error: str = "", manifest: dict | None = None) -> None:
    with transaction.atomic():
        run.state = state
        run.error = error[-MAX_ERROR:]
        run.manifest = manifest or {}
        run.finished_at = timezone.now()
        run.save(update_fields=["state", "error", "manifest", "finished_at"])
        audit.record(
            ACTOR,
            "combine.finished",
            f"combine:{run.pk}",
            workspace=run.workspace.name,
            action=run.action,
            state=state,
            error=run.error[:300],
            outputs=run.files.count(),
        )


def _combine(job_request: JobRequest, inputs: list[Input]) -> list[CombineRun]:
    workspace = job_request.workspace
    try:
        project_text = read_files_at(workspace.repo_url, job_request.commit, [PROJECT_FILE])[
            PROJECT_FILE
        ]
        if project_text is None:
            raise FedsafeError(f"there is no {PROJECT_FILE} at commit {job_request.commit}")
        project = parse_project(project_text.decode("utf-8", "replace"))
    except FedsafeError as exc:
        run = _start(job_request, "", inputs)
        if run is None:
            return []
        _finish(run, CombineState.FAILED, f"cannot read the combine actions: {exc}")
        return [run]
    actions = [a for a in project.actions.values() if a.run.is_combine]
    if not actions:
        run = _start(job_request, "", inputs)
        if run is None:
            return []
        _finish(
            run,
            CombineState.SKIPPED,
            f"{PROJECT_FILE} at {job_request.commit[:12]} declares no fedsafe:v1 combine action",
        )
        return [run]
    made = []
    for action in actions:
        wanted = [i for i in inputs if _released_by_needs(project.actions, action, i.path)]
        run = _start(job_request, action.name, wanted)
        if run is None:
            continue
        made.append(run)
        if not wanted:
            _finish(
                run,
                CombineState.SKIPPED,
                "no released file is an output of " + ", ".join(action.needs_released),
            )
            continue
        try:
            manifest = _run_action(run, action, wanted, job_request)
        except FedsafeError as exc:
            _finish(run, CombineState.FAILED, str(exc))
        except Exception as exc:  # recorded, never raised into the upload that triggered it
            _finish(run, CombineState.FAILED, f"{type(exc).__name__}: {exc}")
        else:
            _finish(run, CombineState.SUCCEEDED, manifest=manifest)
    return made


def _child_environment(root: Path) -> dict[str, str]:
    """Only what ``fedsafe combine`` needs: never the coordinator's database URL or secret key
    (the child parses files from outside). ``FEDSAFE_DISCLOSURE_POLICY`` (JSON settings) is the
    operator's policy for combine actions that name no ``--policy`` file."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "FEDSAFE_DISCLOSURE_POLICY")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["MPLCONFIGDIR"] = str(root / "matplotlib")  # charts: a writable, throw-away config
    env["TMPDIR"] = str(root)
    return env


def _released_by_needs(actions, action: Action, path: str) -> bool:
    return any(
        actions[name].level_of(path) == "moderately_sensitive"
        for name in action.needs_released
        if name in actions
    )


def _run_action(
    run: CombineRun, action: Action, inputs: list[Input], job_request: JobRequest
) -> dict:
    """Lay the inputs out, run ``fedsafe combine`` in its own process, keep what it wrote."""
    store = blob_store()
    with tempfile.TemporaryDirectory(prefix="fedsafe-combine-") as folder:
        root = Path(folder)
        released, output = root / "released", root / "out"
        for item in inputs:
            target = released / item.backend / PurePosixPath(item.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(store.read(item.sha256))
        command = [sys.executable, "-m", "fedsafe.cli", "combine", str(released), "-o", str(output)]
        policy = action.run.option("--policy")
        if policy:
            text = read_files_at(job_request.workspace.repo_url, job_request.commit, [policy])
            if text[policy] is None:
                raise FedsafeError(f"the policy file {policy} is not in the repository")
            policy_file = root / ("policy" + PurePosixPath(policy).suffix)
            policy_file.write_bytes(text[policy])
            command += ["--policy", str(policy_file)]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=settings.COMBINE_TIMEOUT_SECONDS,
                cwd=root,
                env=_child_environment(root),
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise FedsafeError(
                f"fedsafe combine did not finish within {settings.COMBINE_TIMEOUT_SECONDS} s"
            ) from None
        if done.returncode != 0:
            message = (done.stderr.strip() or done.stdout.strip() or "no message").replace(
                str(root) + "/", ""
            )
            raise FedsafeError(f"fedsafe combine failed (exit {done.returncode}): {message}")
        manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
        kinds = {o["path"]: o.get("kind", "") for o in manifest.get("outputs", [])}
        with transaction.atomic():
            for path in sorted(p for p in output.rglob("*") if p.is_file()):
                relative = path.relative_to(output).as_posix()
                data = path.read_bytes()
                CombinedFile.objects.create(
                    run=run,
                    path=relative,
                    kind=kinds.get(relative, "manifest" if relative == "manifest.json" else ""),
                    sha256=store.put(data),
                    size=len(data),
                )
        return manifest
