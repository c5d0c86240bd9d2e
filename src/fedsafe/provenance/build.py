"""Building a Five Safes RO-Crate (profile 0.4) for one job request, with ``rocrate``.

One crate per backend (only that backend's run, checks and released files) or combined (every
backend). The crate records, in the profile's terms:

- the root dataset ``conformsTo`` the profile, ``mainEntity`` is the workspace's code at the
  requested commit (a versioned permalink, with a ``git archive`` zip as its ``distribution``),
  ``sourceOrganization`` is the project;
- one ``CreateAction`` per backend run (agent: the person; instrument: the code; object: the
  actions; actionStatus, startTime, endTime; result: the released files with their hashes);
- ``AssessAction``s with SHP types: CheckValue, ValidationCheck, SignOff (per backend) and
  DisclosureCheck (per decision), and an ``UpdateAction`` once the request has finished.

Files that failed a disclosure check are never written, named or hashed in the crate, even if
a caller passes them in as released.
"""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version as _package_version
from pathlib import Path, PurePosixPath
from typing import Any

from rocrate.rocrate import ROCrate

from fedsafe.provenance import vocabulary as v
from fedsafe.provenance.records import (
    DisclosureDecision,
    JobRecord,
    ReleasedFileRecord,
    RequestRecord,
)

__all__ = ["CrateError", "action_status", "build_crate", "main_entity_id"]

_VERSION = _package_version("fedsafe")
_ACTIVE_STATES = {"leased", "running", "cancelling"}
_TERMINAL = {"succeeded", "failed", "cancelled"}


class CrateError(ValueError):
    """A crate cannot be built or read as asked; the message says which entity or file."""


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def action_status(jobs: Iterable[JobRecord]) -> str:
    """One schema.org action status for one backend's jobs of a request."""
    states = {j.state for j in jobs}
    if not states or states == {"pending"}:
        return v.POTENTIAL
    if states <= _TERMINAL:
        return v.COMPLETED if states == {"succeeded"} else v.FAILED
    return v.ACTIVE if states & _ACTIVE_STATES or states & _TERMINAL else v.POTENTIAL


def main_entity_id(record: RequestRecord) -> str:
    """The workspace's code at the commit: a versioned permalink on the coordinator."""
    return f"{record.base_url.rstrip('/')}/workspaces/{record.workspace}/?commit={record.commit}"


def _uid(record: RequestRecord, *parts: str) -> str:
    """Stable UUIDs for the crate's actions, derived from (never equal to) the crate's own."""
    return str(uuid.uuid5(uuid.UUID(record.crate_uuid), "/".join(parts)))


def _safe_path(path: str) -> PurePosixPath:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or "\\" in path:
        raise CrateError(f"released file path {path!r} must be relative and stay in its folder")
    return pure


@dataclass
class _Graph:
    """Entities by id, kept in insertion order, then handed to rocrate in one go."""

    entities: dict[str, dict[str, Any]]

    def put(self, entity: dict[str, Any]) -> str:
        self.entities[entity["@id"]] = entity
        return entity["@id"]


def _ref(ids: Iterable[str] | str) -> Any:
    if isinstance(ids, str):
        return {"@id": ids}
    return [{"@id": i} for i in ids]


def build_crate(
    record: RequestRecord,
    directory: Path,
    *,
    backend: str | None = None,
    released: Iterable[ReleasedFileRecord] = (),
    decisions: Iterable[DisclosureDecision] = (),
    code_archive: bytes | None = None,
    now: datetime,
) -> Path:
    """Write the crate (metadata file and payload) of ``record`` into ``directory``.

    ``backend`` limits it to one backend's run; ``released`` lists the released files (the
    hook where the coordinator's released-file records come in); ``decisions`` the disclosure
    checks. Returns ``directory``.
    """
    backends = record.backends if backend is None else (backend,)
    if backend is not None and backend not in record.backends:
        raise CrateError(f"request {record.request_id} did not run on backend {backend!r}")
    decisions = [d for d in decisions if d.backend in backends]
    refused = {(d.backend, d.path) for d in decisions if not d.approved}
    files = [f for f in released if f.backend in backends and (f.backend, f.path) not in refused]
    g = _Graph({})
    finished = all(j.state in _TERMINAL for j in record.jobs) and bool(record.jobs)

    # Who is who.
    org = g.put(
        {"@id": "#coordinator-operator", "@type": "Organization", "name": record.organisation}
    )
    coordinator = g.put(
        {
            "@id": "#fedsafe-coordinator",
            "@type": "SoftwareApplication",
            "name": "fedsafe coordinator",
            "url": record.base_url,
            "version": _VERSION,
            "provider": _ref(org),
        }
    )
    project = g.put(
        {
            "@id": f"#project-{record.project_id}",
            "@type": "Project",
            "name": record.project,
            "identifier": _ref(f"#project-{record.project_id}-id"),
        }
    )
    g.put(
        {
            "@id": f"#project-{record.project_id}-id",
            "@type": "PropertyValue",
            "name": "fedsafe coordinator project",
            "value": str(record.project_id),
        }
    )
    affiliation = g.put(
        {"@id": "#affiliation", "@type": "Organization", "name": record.person.affiliation}
    )
    person = g.put(
        {
            "@id": f"#person-{record.person.username}",
            "@type": "Person",
            "name": record.person.name or record.person.username,
            "identifier": record.person.username,
            "affiliation": _ref(affiliation),
            "memberOf": _ref([project]),
        }
    )
    g.put({"@id": v.PROFILE, "@type": "Profile", "name": "Five Safes RO-Crate profile"})
    g.put({"@id": v.SHA512, "@type": "DefinedTerm", "name": "sha-512 algorithm"})

    # The code: a versioned permalink, and the git archive inside the crate.
    main = main_entity_id(record)
    main_entity: dict[str, Any] = {
        "@id": main,
        "@type": "Dataset",
        "name": f"{record.workspace} at {record.commit[:12]}",
        "conformsTo": _ref(v.WORKFLOW_CRATE),
        "version": record.commit,
        "codeRepository": record.repo_url,
        "description": f"The workspace's project.yaml and code, branch {record.branch}",
    }
    payload: dict[str, bytes] = {}
    hashed: list[dict[str, Any]] = []
    if code_archive is not None:
        archive_id = f"code/{record.workspace}-{record.commit}.zip"
        payload[archive_id] = code_archive
        hashed.append(
            {
                "@id": archive_id,
                "@type": ["File", "DataDownload"],
                "name": f"git archive of {record.workspace} at {record.commit}",
                "encodingFormat": "application/zip",
                "contentSize": str(len(code_archive)),
            }
        )
        main_entity["distribution"] = _ref(archive_id)
    g.put(main_entity)

    # Inputs: the actions and backends asked for, as parameters.
    g.put({"@id": "#param-action", "@type": "FormalParameter", "name": "action"})
    g.put({"@id": "#param-backend", "@type": "FormalParameter", "name": "backend"})
    for action in record.actions:
        g.put(
            {
                "@id": f"#action-{action}",
                "@type": "PropertyValue",
                "name": "action",
                "value": action,
                "exampleOfWork": _ref("#param-action"),
            }
        )

    mentions: list[str] = []
    by_backend: dict[str, list[JobRecord]] = {}
    for job in record.jobs:
        by_backend.setdefault(job.backend, []).append(job)

    # The review trail before running: checks and validation by the coordinator.
    if record.bag_checked_at is not None:
        mentions.append(
            g.put(
                _assess(
                    _uid(record, "check"),
                    "CheckValue",
                    "BagIt sha-512 checksums of the submitted crate: OK",
                    v.COMPLETED,
                    coordinator,
                    record.bag_checked_at,
                    instrument=v.SHA512,
                )
            )
        )
    else:
        mentions.append(
            g.put(
                _assess(
                    _uid(record, "check"),
                    "CheckValue",
                    f"Commit hash check: {record.commit} is a full git object id: OK",
                    v.COMPLETED,
                    coordinator,
                    record.created_at,
                    extra_object=[main],
                )
            )
        )
    mentions.append(
        g.put(
            _assess(
                _uid(record, "validate"),
                "ValidationCheck",
                "Validation of the request (actions, backends, tables, reason) and of the "
                "crate against the Five Safes RO-Crate profile: approved",
                v.COMPLETED,
                coordinator,
                record.created_at,
                instrument=v.PROFILE,
            )
        )
    )

    for name in backends:
        jobs = by_backend.get(name, [])
        backend_org = g.put(
            {"@id": f"#backend-{name}", "@type": "Organization", "name": f"backend {name}"}
        )
        agent_app = g.put(
            {
                "@id": f"#backend-{name}-agent",
                "@type": "SoftwareApplication",
                "name": f"fedsafe agent and policy of backend {name}",
                "url": f"{record.base_url.rstrip('/')}/backends/{name}",
                "version": _VERSION,
                "provider": _ref(backend_org),
            }
        )
        g.put(
            {
                "@id": f"#backend-choice-{name}",
                "@type": "PropertyValue",
                "name": "backend",
                "value": name,
                "exampleOfWork": _ref("#param-backend"),
            }
        )
        # Sign-off: the backend's agent leasing the work is its policy accepting it.
        signed = any(j.leased for j in jobs)
        mentions.append(
            g.put(
                _assess(
                    _uid(record, "signoff", name),
                    "SignOff",
                    f"Sign-off by backend {name}'s policy: "
                    + ("approved" if signed else "not reached"),
                    v.COMPLETED if signed else v.POTENTIAL,
                    agent_app,
                    min((j.started_at for j in jobs if j.started_at), default=None)
                    if signed
                    else None,
                    extra_object=[main, project],
                )
            )
        )
        results: list[str] = []
        for f in (f for f in files if f.backend == name):
            path = _safe_path(f.path)
            entity: dict[str, Any] = {
                "@type": "File",
                "name": str(path),
                "sha256": f.sha256,
                "encodingFormat": mimetypes.guess_type(str(path))[0] or "application/octet-stream",
            }
            if f.content is not None:
                fid = f"outputs/{name}/{path}"
                payload[fid] = f.content
                entity["contentSize"] = str(len(f.content))
            elif f.url:
                fid = f.url
            else:
                raise CrateError(f"released file {name}/{path} has neither content nor url")
            results.append(g.put({"@id": fid, **entity}))
        run: dict[str, Any] = {
            "@id": f"#run-{_uid(record, 'run', name)}",
            "@type": "CreateAction",
            "name": f"Run {', '.join(record.actions)} of {record.workspace} at "
            f"{record.commit[:12]} on backend {name} (request {record.request_id})",
            "agent": _ref(person),
            "instrument": _ref(main),
            "object": _ref([f"#action-{a}" for a in record.actions] + [f"#backend-choice-{name}"]),
            "actionStatus": action_status(jobs),
        }
        start = min((j.started_at for j in jobs if j.started_at), default=None)
        ends = [j.finished_at for j in jobs]
        if start:
            run["startTime"] = _time(start)
        if jobs and all(ends):
            run["endTime"] = _time(max(e for e in ends if e))
        failed = [j for j in jobs if j.state == "failed"]
        if failed:
            run["error"] = "; ".join(
                f"{j.action}: {j.error or 'failed'}"
                + (f" (exit {j.exit_code})" if j.exit_code is not None else "")
                for j in failed
            )
        if results:
            run["result"] = _ref(results)
        mentions.append(g.put(run))

        # Disclosure: one action per decision; pending while outputs may still come.
        automated = None
        for d in (d for d in decisions if d.backend == name):
            if d.reviewer:
                agent = g.put(
                    {"@id": f"#reviewer-{d.reviewer}", "@type": "Person", "name": d.reviewer}
                )
            else:
                automated = automated or g.put(
                    {
                        "@id": f"#backend-{name}-airlock-checks",
                        "@type": "SoftwareApplication",
                        "name": f"fedsafe airlock automated disclosure checks at {name}",
                        "url": f"{record.base_url.rstrip('/')}/backends/{name}/airlock",
                        "version": _VERSION,
                        "provider": _ref(backend_org),
                    }
                )
                agent = automated
            shown = f"{name}/{d.path}" if d.approved else "an output"
            outcome = "approved" if d.approved else "rejected (file withheld)"
            who = d.reviewer or "automated checks"
            mentions.append(
                g.put(
                    _assess(
                        _uid(record, "disclosure", name, d.path, who, d.at.isoformat()),
                        "DisclosureCheck",
                        f"Disclosure check of {shown} by {who}: {outcome}",
                        v.COMPLETED if d.approved else v.FAILED,
                        agent,
                        d.at,
                    )
                )
            )
        if not any(d.backend == name for d in decisions) and action_status(jobs) == v.COMPLETED:
            mentions.append(
                g.put(
                    _assess(
                        _uid(record, "disclosure", name, "pending"),
                        "DisclosureCheck",
                        f"Disclosure check of backend {name}'s results: pending",
                        v.POTENTIAL,
                        agent_app,
                        None,
                    )
                )
            )

    # Publication: the coordinator writes the final crate and its manifests.
    if finished:
        update = _assess(
            _uid(record, "publish", backend or "combined"),
            "GenerateCheckValue",
            "Crate published by the fedsafe coordinator; BagIt manifests updated",
            v.COMPLETED,
            coordinator,
            None,
            instrument=v.SHA512,
        )
        update["@type"] = "UpdateAction"
        update["startTime"] = _time(now)
        mentions.append(g.put(update))

    licence = g.put(
        {
            "@id": "#licence-released-outputs",
            "@type": "CreativeWork",
            "name": "Released outputs: reuse only under the data controllers' conditions for "
            f"project {record.project}",
        }
    )
    root = {
        "name": f"fedsafe request {record.request_id}: {record.workspace} at "
        f"{record.commit[:12]}" + (f" on {backend}" if backend else ""),
        "description": record.reason,
        "conformsTo": _ref(v.PROFILE),
        "mainEntity": _ref(main),
        "sourceOrganization": _ref(project),
        "mentions": _ref(mentions),
        "hasPart": _ref([*payload, main]),
        "datePublished": _time(now),
        "publisher": _ref(org),
        "license": _ref(licence),
        "identifier": f"urn:uuid:{record.crate_uuid}",
    }
    _carry_submitted(g, record.submitted_graph, root)
    return _write(directory, root, g, hashed, payload)


def _assess(
    uid: str,
    kind: str,
    name: str,
    status: str,
    agent: str,
    end: datetime | None,
    *,
    instrument: str | None = None,
    extra_object: list[str] | None = None,
) -> dict[str, Any]:
    prefix = {
        "CheckValue": "check",
        "ValidationCheck": "validate",
        "SignOff": "signoff",
        "DisclosureCheck": "disclosure",
        "GenerateCheckValue": "bagit",
    }[kind]
    entity: dict[str, Any] = {
        "@id": f"#{prefix}-{uid}",
        "@type": "AssessAction",
        "additionalType": _ref(v.SHP + kind),
        "name": name,
        "object": _ref(["./", *(extra_object or [])]),
        "agent": _ref(agent),
        "actionStatus": status,
    }
    if end is not None and status in (v.COMPLETED, v.FAILED):
        entity["endTime"] = _time(end)
    if instrument:
        entity["instrument"] = _ref(instrument)
    return entity


def _carry_submitted(
    g: _Graph, submitted: Iterable[Mapping[str, Any]], root: dict[str, Any]
) -> None:
    """Keep a submitted crate's own entities, minus what the coordinator rewrites: the root,
    the descriptor, its CreateActions (replaced by one per backend run) and, as the profile
    requires, any AssessAction a client wrote about itself."""
    for entity in submitted:
        eid = entity.get("@id")
        types = entity.get("@type")
        types = [types] if isinstance(types, str) else list(types or [])
        if not isinstance(eid, str):
            continue
        if eid == "./":
            for key in ("name", "description"):
                if isinstance(entity.get(key), str) and entity[key].strip():
                    root[key] = entity[key]
            continue
        if eid == "ro-crate-metadata.json" or {
            "AssessAction",
            "CreateAction",
            "UpdateAction",
        } & set(types):
            continue
        if eid in g.entities or eid.startswith(("#run-", "#check-", "#validate-")):
            continue
        if not eid.startswith(("#", "http://", "https://", "_:", "urn:")):
            continue  # a local file the submitter did not send: never referenced
        g.put(dict(entity))


def _write(
    directory: Path,
    root: dict[str, Any],
    g: _Graph,
    hashed: list[dict[str, Any]],
    payload: Mapping[str, bytes],
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    staging = directory / ".staging"
    crate = ROCrate()
    for key, value in root.items():
        crate.root_dataset[key] = value
    files = {h["@id"]: h for h in hashed}
    for entity in g.entities.values():
        if entity["@id"] in payload:
            files[entity["@id"]] = entity
    for fid, data in payload.items():
        source = staging / fid
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_bytes(data)
        props = {k: val for k, val in files[fid].items() if k != "@id"}
        crate.add_file(source, dest_path=fid, properties=props)
    for eid, entity in g.entities.items():
        if eid in payload:
            continue
        crate.add_jsonld(dict(entity))
    crate.write(directory / "data")
    for path in sorted(staging.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    if staging.exists():
        staging.rmdir()
    return directory / "data"
