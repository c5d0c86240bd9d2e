"""What people can do in the airlock, each as one method that checks first and records after.

Views and the command line only call these methods: who may act (role, authorship, workspace
access) and whether it may happen now (state, file level, type, size, content hash) is decided
here, in one place. Every change is written to the audit log in the same transaction; every
refusal is written to the audit log in a transaction of its own and then raised.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fedsafe.airlock import audit
from fedsafe.airlock import ledger as release_ledger
from fedsafe.airlock.config import AirlockConfig, User
from fedsafe.airlock.db import connect, transaction
from fedsafe.airlock.errors import AirlockError, PermissionDenied, PolicyRefused
from fedsafe.airlock.files import (
    OutputFile,
    list_outputs,
    resolve_output,
    review_digest,
    sidecar_of,
)
from fedsafe.airlock.states import OWNERS, TRANSITIONS, Owner, Status, Vote
from fedsafe.airlock.upload import Uploader
from fedsafe.disclosure import OutputFileError, check_output_file, read_sidecar
from fedsafe.disclosure import Status as CheckStatus
from fedsafe.disclosure.findings import Finding
from fedsafe.disclosure.sidecar import SIDECAR_SUFFIX

__all__ = ["SYSTEM", "Airlock", "FileView", "RequestView"]

SYSTEM = "airlock"
KINDS = ("output", "supporting")
REVIEWING = (Status.SUBMITTED, Status.PARTIALLY_REVIEWED, Status.REVIEWED)
OPEN_TO_AUTHOR_VOTES = (Status.RETURNED, Status.APPROVED, Status.REJECTED, Status.RELEASED)
MAX_TEXT = 10_000


@dataclass(frozen=True)
class FileView:
    path: str
    group: str
    kind: str
    sha256: str
    check_status: str | None
    findings: tuple[dict[str, Any], ...]
    justification: str
    automatic: bool
    uploaded: bool
    votes: tuple[tuple[str, str], ...]  # (reviewer, vote) the viewer may see
    comments: tuple[tuple[str, str], ...]  # (author, text) the viewer may see
    approvals: int | None  # None while blinded


@dataclass(frozen=True)
class RequestView:
    id: str
    workspace: str
    author: str
    status: Status
    groups: tuple[tuple[str, str, str], ...]  # (name, context, controls)
    files: tuple[FileView, ...]

    @property
    def owner(self) -> Owner:
        return OWNERS[self.status]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _text(value: str | None, field: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise AirlockError("required; write a sentence", field=field)
    if len(value) > MAX_TEXT:
        raise AirlockError(f"longer than {MAX_TEXT} characters", field=field)
    return value


class Airlock:
    """The airlock of one backend, over its database and audit log."""

    def __init__(self, config: AirlockConfig, uploader: Uploader | None = None) -> None:
        self.config = config
        self.database = config.directory / "airlock.sqlite3"
        self.log_file = config.directory / "audit.jsonl"
        if uploader is None and config.coordinator_url and config.coordinator_token:
            uploader = Uploader(
                config.coordinator_url, config.coordinator_token, config.upload_attempts
            )
        self.uploader = uploader
        connect(self.database).close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; after it commits, its audit records are appended to the
        log file (so a rolled-back change never leaves a line behind)."""
        with transaction(self.database) as connection:
            yield connection
        audit.sync_file(self.database, self.log_file)

    # -- people -----------------------------------------------------------------------------

    def user(self, name: str) -> User:
        user = self.config.users.get(name)
        if user is None:
            raise PermissionDenied(f"no such user {name!r}", field="user")
        return user

    # -- audit ------------------------------------------------------------------------------

    def _log(self, connection: sqlite3.Connection, actor: str, event: str, **kw: Any) -> None:
        audit.append(connection, actor=actor, event=event, **kw)

    @contextmanager
    def _refusals(
        self, action: str, actor: str, workspace: str = "", request_id: str = "", path: str = ""
    ) -> Iterator[None]:
        """Record any refusal in the audit log (in its own transaction), then raise it."""
        try:
            yield
        except AirlockError as exc:
            with self._tx() as connection:
                self._log(
                    connection,
                    actor,
                    "refused",
                    workspace=workspace,
                    request_id=request_id,
                    path=path,
                    details={"action": action, "reason": str(exc), "kind": type(exc).__name__},
                )
            raise

    def _access(self, user: User, workspace: str) -> None:
        if not user.can_access(workspace):
            raise PermissionDenied(
                f"{user.name} has no access to workspace {workspace!r}", field="workspace"
            )

    # -- browsing ---------------------------------------------------------------------------

    def outputs(self, name: str, workspace: str) -> list[OutputFile]:
        user = self.user(name)
        with self._refusals("list outputs", name, workspace):
            self._access(user, workspace)
            return list_outputs(self.config, workspace)

    def open_file(
        self, name: str, workspace: str, path: str, *, download: bool = False
    ) -> OutputFile:
        """A file to show or send; the view or download is logged."""
        user = self.user(name)
        action = "download" if download else "view"
        with self._refusals(action, name, workspace, path=path):
            self._access(user, workspace)
            output = resolve_output(self.config, workspace, path)
        with self._tx() as connection:
            self._log(connection, name, action, workspace=workspace, path=path)
        return output

    # -- requests ---------------------------------------------------------------------------

    def _request(self, connection: sqlite3.Connection, request_id: str) -> sqlite3.Row:
        row = connection.execute("SELECT * FROM requests WHERE id = ?", (request_id,)).fetchone()
        if row is None:
            raise AirlockError(f"no release request {request_id!r}", field="request")
        return row

    def _move(
        self,
        connection: sqlite3.Connection,
        row: sqlite3.Row,
        to: Status,
        actor: str,
        **details: Any,
    ) -> None:
        current = Status(row["status"])
        owner = TRANSITIONS.get((current, to))
        if owner is None:
            raise PolicyRefused(f"a request that is {current.value} cannot become {to.value}")
        connection.execute("UPDATE requests SET status = ? WHERE id = ?", (to.value, row["id"]))
        self._log(
            connection,
            actor,
            "state",
            workspace=row["workspace"],
            request_id=row["id"],
            details={"from": current.value, "to": to.value, "by": owner.value, **details},
        )

    def _meta(self, request_id: str) -> tuple[str, str]:
        connection = connect(self.database)
        try:
            row = connection.execute(
                "SELECT workspace, author FROM requests WHERE id = ?", (request_id,)
            ).fetchone()
        finally:
            connection.close()
        return (row["workspace"], row["author"]) if row else ("", "")

    def add_files(
        self,
        name: str,
        workspace: str,
        paths: list[str],
        *,
        group: str,
        context: str = "",
        controls: str = "",
        kind: str = "output",
    ) -> str:
        """Add files to the author's open (pending) request for the workspace, creating it."""
        user = self.user(name)
        with self._refusals("add files", name, workspace, path=",".join(paths)):
            self._access(user, workspace)
            if "researcher" not in user.roles:
                raise PermissionDenied(f"{name} is not a researcher", field="user")
            group = _text(group, "group")
            if len(group) > 100:
                raise AirlockError("at most 100 characters", field="group")
            if kind not in KINDS:
                raise AirlockError(f"must be one of {', '.join(KINDS)}", field="kind")
            if not paths:
                raise AirlockError("choose at least one file", field="files")
            outputs = [resolve_output(self.config, workspace, p) for p in paths]
            for output in outputs:
                table = output.path.removesuffix(SIDECAR_SUFFIX)
                if table != output.path and (output.absolute.parent / Path(table).name).exists():
                    raise AirlockError(
                        f"{output.path} is the disclosure sidecar of {table}; it is reviewed "
                        f"and released with that table: add {table} instead",
                        field="path",
                    )
            context = _text(context, "context", required=False)
            controls = _text(controls, "controls", required=False)
            with self._tx() as connection:
                row = connection.execute(
                    "SELECT id FROM requests WHERE workspace = ? AND author = ? AND status = ?",
                    (workspace, name, Status.PENDING.value),
                ).fetchone()
                if row is None:
                    request_id = f"r-{secrets.token_hex(6)}"
                    connection.execute(
                        "INSERT INTO requests VALUES (?, ?, ?, ?, ?)",
                        (request_id, workspace, name, Status.PENDING.value, _now()),
                    )
                    self._log(
                        connection,
                        name,
                        "state",
                        workspace=workspace,
                        request_id=request_id,
                        details={"from": None, "to": Status.PENDING.value, "by": "author"},
                    )
                else:
                    request_id = row["id"]
                connection.execute(
                    "INSERT INTO groups VALUES (?, ?, ?, ?) ON CONFLICT (request_id, name) DO"
                    " UPDATE SET context = CASE WHEN excluded.context = '' THEN context ELSE"
                    " excluded.context END, controls = CASE WHEN excluded.controls = '' THEN"
                    " controls ELSE excluded.controls END",
                    (request_id, group, context, controls),
                )
                for output in outputs:
                    connection.execute(
                        "INSERT OR REPLACE INTO files (request_id, path, grp, kind, sha256)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (request_id, output.path, group, kind, self._digest(output)),
                    )
                    self._log(
                        connection,
                        name,
                        "add file",
                        workspace=workspace,
                        request_id=request_id,
                        path=output.path,
                        details={"group": group, "kind": kind},
                    )
            return request_id

    def set_group_text(
        self, name: str, request_id: str, group: str, context: str, controls: str
    ) -> None:
        workspace, _ = self._meta(request_id)
        with self._refusals("edit group", name, workspace, request_id), self._tx() as connection:
            row = self._author_turn(connection, request_id, name)
            context = _text(context, "context")
            controls = _text(controls, "controls")
            changed = connection.execute(
                "UPDATE groups SET context = ?, controls = ? WHERE request_id = ? AND name = ?",
                (context, controls, request_id, group),
            ).rowcount
            if not changed:
                raise AirlockError(f"no group {group!r} in this request", field="group")
            self._log(
                connection,
                name,
                "edit group",
                workspace=row["workspace"],
                request_id=request_id,
                details={"group": group},
            )

    def _author_turn(
        self, connection: sqlite3.Connection, request_id: str, name: str
    ) -> sqlite3.Row:
        row = self._request(connection, request_id)
        self._access(self.user(name), row["workspace"])
        if row["author"] != name:
            raise PermissionDenied(f"only the author ({row['author']}) may change this request")
        if OWNERS[Status(row["status"])] is not Owner.AUTHOR:
            raise PolicyRefused(
                f"the request is {row['status']}: it is not the author's turn", field="status"
            )
        return row

    def justify(self, name: str, request_id: str, path: str, text: str) -> None:
        workspace, _ = self._meta(request_id)
        with self._refusals("justify", name, workspace, request_id, path), self._tx() as connection:
            row = self._author_turn(connection, request_id, name)
            text = _text(text, "justification")
            if not connection.execute(
                "UPDATE files SET justification = ? WHERE request_id = ? AND path = ?",
                (text, request_id, path),
            ).rowcount:
                raise AirlockError(f"no file {path!r} in this request", field="path")
            self._log(
                connection,
                name,
                "justify",
                workspace=row["workspace"],
                request_id=request_id,
                path=path,
            )

    def _digest(self, output: OutputFile) -> str:
        return review_digest(output, sidecar_of(self.config, output))

    def _check(self, output: OutputFile) -> tuple[str, list[dict[str, Any]], bool]:
        """(status, findings, safe by construction) from the automated checker."""
        try:
            report = check_output_file(output.absolute, self.config.policy)
        except OutputFileError as exc:
            return (
                CheckStatus.FAIL.value,
                [{"status": "fail", "rule": "readable", "reason": str(exc)}],
                False,
            )
        findings = [f.to_dict() for f in report.findings]
        try:
            sidecar = read_sidecar(output.absolute)  # the checker already verified its claims
        except OutputFileError:
            sidecar = None
        safe = (
            report.status is CheckStatus.PASS
            and sidecar is not None
            and bool(sidecar.rules_applied)
            and not any(f.inferred for f in report.findings)
        )
        return report.status.value, findings, safe

    def submit(self, name: str, request_id: str) -> Status:
        """Run the automated checks, then hand the request to the checkers (or release it
        automatically when the backend's policy allows and every output is safe by
        construction)."""
        workspace, _ = self._meta(request_id)
        with self._refusals("submit", name, workspace, request_id), self._tx() as connection:
            row = self._author_turn(connection, request_id, name)
            files = connection.execute(
                "SELECT * FROM files WHERE request_id = ? ORDER BY path", (request_id,)
            ).fetchall()
            if not any(f["kind"] == "output" for f in files):
                raise AirlockError("a request needs at least one output file", field="files")
            groups = {
                g["name"]: g
                for g in connection.execute(
                    "SELECT * FROM groups WHERE request_id = ?", (request_id,)
                )
            }
            for group in sorted({f["grp"] for f in files if f["kind"] == "output"}):
                for field in ("context", "controls"):
                    if not groups[group][field].strip():
                        raise AirlockError(f"group {group!r} needs its {field} text", field=field)
            all_safe = True
            outputs = {
                f["path"]: resolve_output(self.config, row["workspace"], f["path"]) for f in files
            }
            across = release_ledger.differencing(
                self.config,
                release_ledger.open_ledger(self.config),
                [outputs[f["path"]] for f in files if f["kind"] == "output"],
                request_id,
            )
            for file in files:
                output = outputs[file["path"]]
                digest = self._digest(output)
                if digest != file["sha256"]:
                    self._reset_votes(
                        connection, row, file["path"], digest, "changed before resubmission"
                    )
                if file["kind"] != "output":
                    continue
                status, findings, safe = self._check(output)
                extra = across.get(file["path"], ())
                findings += [f.to_dict() for f in extra]
                if any(f.status is CheckStatus.FAIL for f in extra):
                    status, safe = CheckStatus.FAIL.value, False
                all_safe = all_safe and safe
                if status == CheckStatus.FAIL.value and not file["justification"].strip():
                    raise PolicyRefused(
                        f"{file['path']} fails the automated checks; write a justification"
                        " for releasing it anyway, or remove it",
                        field="justification",
                    )
                connection.execute(
                    "UPDATE files SET check_status = ?, check_json = ?"
                    " WHERE request_id = ? AND path = ?",
                    (status, json.dumps(findings), request_id, file["path"]),
                )
                self._log(
                    connection,
                    SYSTEM,
                    "automated check",
                    workspace=row["workspace"],
                    request_id=request_id,
                    path=file["path"],
                    details={"status": status, "findings": len(findings)},
                )
            # A resubmission asks the checkers to look again at what they asked to change.
            connection.execute(
                "DELETE FROM votes WHERE request_id = ? AND vote = ?",
                (request_id, Vote.CHANGES.value),
            )
            self._move(connection, row, Status.SUBMITTED, name)
            row = self._request(connection, request_id)
            if self.config.auto_release and all_safe:
                connection.execute(
                    "UPDATE files SET automatic = 1, approved_sha256 = sha256"
                    " WHERE request_id = ? AND kind = 'output'",
                    (request_id,),
                )
                self._move(
                    connection,
                    row,
                    Status.APPROVED,
                    SYSTEM,
                    automatic=True,
                    reason="every output is safe by construction and passes every check",
                )
            else:
                self._advance(connection, request_id)
            return Status(self._request(connection, request_id)["status"])

    def _reset_votes(
        self, connection: sqlite3.Connection, row: sqlite3.Row, path: str, digest: str, why: str
    ) -> None:
        connection.execute("DELETE FROM votes WHERE request_id = ? AND path = ?", (row["id"], path))
        connection.execute(
            "UPDATE files SET sha256 = ?, check_status = NULL WHERE request_id = ? AND path = ?",
            (digest, row["id"], path),
        )
        self._log(
            connection,
            SYSTEM,
            "reviews reset",
            workspace=row["workspace"],
            request_id=row["id"],
            path=path,
            details={"reason": why, "sha256": digest},
        )

    def _complete_reviewers(self, connection: sqlite3.Connection, request_id: str) -> set[str]:
        outputs = {
            r["path"]
            for r in connection.execute(
                "SELECT path FROM files WHERE request_id = ? AND kind = 'output'", (request_id,)
            )
        }
        by_reviewer: dict[str, set[str]] = {}
        for vote in connection.execute(
            "SELECT reviewer, path FROM votes WHERE request_id = ?", (request_id,)
        ):
            by_reviewer.setdefault(vote["reviewer"], set()).add(vote["path"])
        return {r for r, paths in by_reviewer.items() if paths >= outputs}

    def _advance(self, connection: sqlite3.Connection, request_id: str) -> None:
        """Move between the review states as reviews are completed (or reset)."""
        row = self._request(connection, request_id)
        count = len(self._complete_reviewers(connection, request_id))
        target = {0: Status.SUBMITTED, 1: Status.PARTIALLY_REVIEWED}.get(count, Status.REVIEWED)
        current = Status(row["status"])
        if current in REVIEWING and current is not target:
            self._move(connection, row, target, SYSTEM, complete_reviews=count)

    def _sync_reviews(self, request_id: str) -> None:
        """Reset reviews of changed files and settle the review state, committed on its own so
        that a refusal afterwards does not undo the reset."""
        with self._tx() as connection:
            row = self._request(connection, request_id)
            if Status(row["status"]) in (*REVIEWING, Status.PENDING, Status.RETURNED):
                self._refresh(connection, row)
                if Status(row["status"]) in REVIEWING:
                    self._advance(connection, request_id)

    def _refresh(self, connection: sqlite3.Connection, row: sqlite3.Row) -> None:
        """Reset the reviews of any file whose content changed on disk since it was added."""
        for file in connection.execute(
            "SELECT * FROM files WHERE request_id = ?", (row["id"],)
        ).fetchall():
            output = resolve_output(self.config, row["workspace"], file["path"])
            digest = self._digest(output)
            if digest != file["sha256"]:
                self._reset_votes(connection, row, file["path"], digest, "the file changed on disk")

    def _checker_turn(
        self, connection: sqlite3.Connection, request_id: str, name: str, states: tuple[Status, ...]
    ) -> sqlite3.Row:
        row = self._request(connection, request_id)
        user = self.user(name)
        self._access(user, row["workspace"])
        if not user.is_checker:
            raise PermissionDenied(f"{name} is not an output checker", field="user")
        if row["author"] == name:
            raise PermissionDenied("the author of a request may not review it", field="user")
        if Status(row["status"]) not in states:
            raise PolicyRefused(f"the request is {row['status']}", field="status")
        return row

    def vote(self, name: str, request_id: str, path: str, vote: str, comment: str = "") -> None:
        workspace, _ = self._meta(request_id)
        with self._refusals("vote", name, workspace, request_id, path):
            try:
                choice = Vote(vote)
            except ValueError:
                raise AirlockError(
                    f"must be one of {[v.value for v in Vote]}", field="vote"
                ) from None
            comment = _text(comment, "comment", required=False)
            self._sync_reviews(request_id)
            with self._tx() as connection:
                row = self._checker_turn(connection, request_id, name, REVIEWING)
                file = connection.execute(
                    "SELECT * FROM files WHERE request_id = ? AND path = ? AND kind = 'output'",
                    (request_id, path),
                ).fetchone()
                if file is None:
                    raise AirlockError(f"no output file {path!r} in this request", field="path")
                digest = connection.execute(
                    "SELECT sha256 FROM files WHERE request_id = ? AND path = ?", (request_id, path)
                ).fetchone()["sha256"]
                connection.execute(
                    "INSERT OR REPLACE INTO votes VALUES (?, ?, ?, ?, ?)",
                    (request_id, path, name, choice.value, digest),
                )
                self._log(
                    connection,
                    name,
                    "vote",
                    workspace=row["workspace"],
                    request_id=request_id,
                    path=path,
                    details={"vote": choice.value, "sha256": digest},
                )
                if comment:
                    self._add_comment(connection, row, name, path, comment)
                self._advance(connection, request_id)

    def _add_comment(
        self, connection: sqlite3.Connection, row: sqlite3.Row, name: str, path: str, text: str
    ) -> None:
        connection.execute(
            "INSERT INTO comments (request_id, path, author, text, at) VALUES (?, ?, ?, ?, ?)",
            (row["id"], path, name, text, _now()),
        )
        self._log(
            connection, name, "comment", workspace=row["workspace"], request_id=row["id"], path=path
        )

    def comment(self, name: str, request_id: str, path: str, text: str) -> None:
        workspace, _ = self._meta(request_id)
        with self._refusals("comment", name, workspace, request_id, path):
            text = _text(text, "comment")
            with self._tx() as connection:
                row = self._request(connection, request_id)
                user = self.user(name)
                self._access(user, row["workspace"])
                if row["author"] == name:
                    self._author_turn(connection, request_id, name)
                else:
                    self._checker_turn(connection, request_id, name, REVIEWING)
                if (
                    connection.execute(
                        "SELECT 1 FROM files WHERE request_id = ? AND path = ?", (request_id, path)
                    ).fetchone()
                    is None
                ):
                    raise AirlockError(f"no file {path!r} in this request", field="path")
                self._add_comment(connection, row, name, path, text)

    def _decide(self, name: str, request_id: str, to: Status, action: str) -> None:
        workspace, _ = self._meta(request_id)
        with self._refusals(action, name, workspace, request_id):
            self._sync_reviews(request_id)
            with self._tx() as connection:
                row = self._checker_turn(connection, request_id, name, (Status.REVIEWED,))
                if to is Status.APPROVED:
                    for file in connection.execute(
                        "SELECT * FROM files WHERE request_id = ? AND kind = 'output'",
                        (request_id,),
                    ).fetchall():
                        approvers = {
                            v["reviewer"]
                            for v in connection.execute(
                                "SELECT reviewer FROM votes WHERE request_id = ? AND path = ?"
                                " AND vote = ?"
                                " AND sha256 = ? AND reviewer != ?",
                                (
                                    request_id,
                                    file["path"],
                                    Vote.APPROVE.value,
                                    file["sha256"],
                                    row["author"],
                                ),
                            )
                        }
                        if len(approvers) < 2:
                            raise PolicyRefused(
                                f"{file['path']} has {len(approvers)} approval(s); two checkers who"
                                " are not the author must approve every file",
                                field="approvals",
                            )
                    unseen = self._unseen_differencing(connection, row)
                    if unseen:
                        raise PolicyRefused(
                            "a release made since this request was checked differences with it: "
                            + "; ".join(f"{path}: {f.reason}" for path, f in unseen)
                            + ". Return the request so its author sees the finding.",
                            field="differencing",
                        )
                    connection.execute(
                        "UPDATE files SET approved_sha256 = sha256"
                        " WHERE request_id = ? AND kind = 'output'",
                        (request_id,),
                    )
                self._move(connection, row, to, name)

    def _unseen_differencing(
        self, connection: sqlite3.Connection, row: sqlite3.Row
    ) -> list[tuple[str, Finding]]:
        """Differencing failures against the ledger as it is now that were not among the
        findings checked at submission (the ledger grows while a request waits)."""
        files = connection.execute(
            "SELECT * FROM files WHERE request_id = ? AND kind = 'output' ORDER BY path",
            (row["id"],),
        ).fetchall()
        outputs = [resolve_output(self.config, row["workspace"], f["path"]) for f in files]
        across = release_ledger.differencing(
            self.config, release_ledger.open_ledger(self.config), outputs, row["id"]
        )
        unseen = []
        for file in files:
            seen = json.loads(file["check_json"] or "[]")
            for finding in release_ledger.new_failures(across.get(file["path"], ()), seen):
                unseen.append((file["path"], finding))
        return unseen

    def approve(self, name: str, request_id: str) -> None:
        self._decide(name, request_id, Status.APPROVED, "approve")

    def reject(self, name: str, request_id: str) -> None:
        self._decide(name, request_id, Status.REJECTED, "reject")

    def return_request(self, name: str, request_id: str) -> None:
        self._decide(name, request_id, Status.RETURNED, "return")

    def withdraw(self, name: str, request_id: str) -> None:
        workspace, _ = self._meta(request_id)
        with self._refusals("withdraw", name, workspace, request_id), self._tx() as connection:
            row = self._author_turn(connection, request_id, name)
            self._move(connection, row, Status.WITHDRAWN, name)

    # -- release ----------------------------------------------------------------------------

    def release(self, name: str, request_id: str) -> Status:
        """Upload every approved file not yet delivered; released once the coordinator has
        confirmed that all of them arrived (``release_contract``: the completion call).

        Each file's hash is checked against the one recorded at approval just before it is
        sent, so a file changed after approval is never released.
        """
        workspace, _ = self._meta(request_id)
        with self._refusals("release", name, workspace, request_id):
            if name != SYSTEM:
                user = self.user(name)
                self._access(user, workspace)
                if not user.is_checker:
                    raise PermissionDenied(f"{name} is not an output checker", field="user")
            if self.uploader is None:
                raise PolicyRefused(
                    "no coordinator is configured (airlock.coordinator_url)",
                    field="coordinator_url",
                )
            connection = connect(self.database)
            try:
                row = self._request(connection, request_id)
                files = connection.execute(
                    "SELECT * FROM files WHERE request_id = ? AND kind = 'output' ORDER BY path",
                    (request_id,),
                ).fetchall()
            finally:
                connection.close()
            if Status(row["status"]) is not Status.APPROVED:
                raise PolicyRefused(f"the request is {row['status']}, not approved", field="status")
            self._stop_unseen_differencing(name, row)
            ledger = release_ledger.open_ledger(self.config)
            delivered: list[tuple[str, str]] = []  # (path, sha256) of every file sent
            for file in files:
                output = resolve_output(self.config, row["workspace"], file["path"])
                sidecar = sidecar_of(self.config, output)
                if review_digest(output, sidecar) != file["approved_sha256"]:
                    raise PolicyRefused(
                        f"{file['path']} changed since it was approved; it will not be released",
                        field="sha256",
                    )
                parts = [p for p in (sidecar, output) if p is not None]  # the table last
                sent = [(p, p.absolute.read_bytes()) for p in parts]
                delivered += [(p.path, hashlib.sha256(data).hexdigest()) for p, data in sent]
                if file["uploaded"]:
                    continue
                data = sent[-1][1]
                digest = hashlib.sha256(data).hexdigest()
                self._record_release(ledger, name, row, output, digest)
                attempts = 0
                for part, part_data in sent:
                    attempts += self.uploader.upload(
                        request_id=request_id,
                        workspace=row["workspace"],
                        path=part.path,
                        data=part_data,
                        sha256=hashlib.sha256(part_data).hexdigest(),
                    )
                with self._tx() as connection:
                    connection.execute(
                        "UPDATE files SET uploaded = 1 WHERE request_id = ? AND path = ?",
                        (request_id, file["path"]),
                    )
                    self._log(
                        connection,
                        name,
                        "uploaded",
                        workspace=row["workspace"],
                        request_id=request_id,
                        path=file["path"],
                        details={
                            "sha256": digest,
                            "sidecar": sidecar.path if sidecar is not None else None,
                            "attempts": attempts,
                            "automatic": bool(file["automatic"]),
                        },
                    )
            # The coordinator confirms it holds exactly these files with these hashes; only
            # then is the request released (a failure leaves it approved, to be retried).
            attempts = self.uploader.complete(
                request_id=request_id,
                workspace=row["workspace"],
                files=delivered,
            )
            with self._tx() as connection:
                row = self._request(connection, request_id)
                self._log(
                    connection,
                    name,
                    "release confirmed",
                    workspace=row["workspace"],
                    request_id=request_id,
                    details={"files": len(files), "attempts": attempts},
                )
                self._move(
                    connection,
                    row,
                    Status.RELEASED,
                    name,
                    automatic=all(bool(f["automatic"]) for f in files),
                )
            return Status.RELEASED

    def _stop_unseen_differencing(self, name: str, row: sqlite3.Row) -> None:
        """Just before upload, check the request against the ledger once more: a release made
        since approval may difference with it. If so, nothing is sent: the request goes back
        to its author with the new findings added, and the release is refused."""
        connection = connect(self.database)
        try:
            unseen = self._unseen_differencing(connection, row)
        finally:
            connection.close()
        if not unseen:
            return
        with self._tx() as connection:
            for path in sorted({p for p, _ in unseen}):
                stored = connection.execute(
                    "SELECT check_json FROM files WHERE request_id = ? AND path = ?",
                    (row["id"], path),
                ).fetchone()["check_json"]
                findings = json.loads(stored or "[]")
                findings += [f.to_dict() for p, f in unseen if p == path]
                connection.execute(
                    "UPDATE files SET check_status = ?, check_json = ?, approved_sha256 = NULL,"
                    " automatic = 0 WHERE request_id = ? AND path = ?",
                    (CheckStatus.FAIL.value, json.dumps(findings), row["id"], path),
                )
                # The approvals were given without this finding: they must be given again.
                connection.execute(
                    "DELETE FROM votes WHERE request_id = ? AND path = ?", (row["id"], path)
                )
            self._move(
                connection,
                self._request(connection, row["id"]),
                Status.RETURNED,
                SYSTEM,
                reason="a release made after approval differences with this request",
            )
        raise PolicyRefused(
            "not released: a release made since approval differences with this request: "
            + "; ".join(f"{path}: {f.reason}" for path, f in unseen)
            + ". It has been returned to its author.",
            field="differencing",
        )

    def _record_release(
        self,
        ledger: release_ledger.ReleaseLedger,
        name: str,
        row: sqlite3.Row,
        output: OutputFile,
        digest: str,
    ) -> None:
        """Record ``output`` in the release ledger before it is sent, and audit that."""
        table = release_ledger.released_table(self.config, output, row["id"])
        if table is None:
            return
        entry = release_ledger.record(
            ledger, table, sha256=digest, released_by=name, request_id=row["id"]
        )
        with self._tx() as connection:
            self._log(
                connection,
                name,
                "ledger recorded",
                workspace=row["workspace"],
                request_id=row["id"],
                path=output.path,
                details={"ledger_seq": entry.seq, "ledger_hash": entry.hash, "sha256": digest},
            )

    # -- reading ----------------------------------------------------------------------------

    def view_request(self, name: str, request_id: str) -> RequestView:
        """The request as ``name`` may see it: votes and comments stay blinded until two
        complete reviews are in (for checkers) or the request comes back (for the author)."""
        workspace, _ = self._meta(request_id)
        user = self.user(name)
        with self._refusals("view request", name, workspace, request_id), self._tx() as connection:
            row = self._request(connection, request_id)
            self._access(user, row["workspace"])
            is_author = row["author"] == name
            if not is_author and not user.is_checker:
                raise PermissionDenied(f"{name} is neither the author nor a checker", field="user")
            if Status(row["status"]) in (*REVIEWING, Status.PENDING, Status.RETURNED):
                self._refresh(connection, row)
                if Status(row["status"]) in REVIEWING:
                    self._advance(connection, request_id)
            row = self._request(connection, request_id)
            status = Status(row["status"])
            if is_author:
                unblinded = status in OPEN_TO_AUTHOR_VOTES
            else:
                unblinded = status not in (Status.SUBMITTED, Status.PARTIALLY_REVIEWED)
            groups = tuple(
                (g["name"], g["context"], g["controls"])
                for g in connection.execute(
                    "SELECT * FROM groups WHERE request_id = ? ORDER BY name", (request_id,)
                )
            )
            files = []
            for f in connection.execute(
                "SELECT * FROM files WHERE request_id = ? ORDER BY grp, path", (request_id,)
            ).fetchall():
                votes = [
                    (v["reviewer"], v["vote"], v["sha256"])
                    for v in connection.execute(
                        "SELECT * FROM votes WHERE request_id = ? AND path = ? ORDER BY reviewer",
                        (request_id, f["path"]),
                    )
                ]
                comments = [
                    (c["author"], c["text"])
                    for c in connection.execute(
                        "SELECT * FROM comments WHERE request_id = ? AND path = ? ORDER BY id",
                        (request_id, f["path"]),
                    )
                ]
                if not unblinded:
                    votes = [v for v in votes if v[0] == name]
                    comments = [c for c in comments if c[0] == name or c[0] == row["author"]]
                approvals = sum(
                    1 for v in votes if v[1] == Vote.APPROVE.value and v[2] == f["sha256"]
                )
                files.append(
                    FileView(
                        path=f["path"],
                        group=f["grp"],
                        kind=f["kind"],
                        sha256=f["sha256"],
                        check_status=f["check_status"],
                        findings=tuple(json.loads(f["check_json"] or "[]")),
                        justification=f["justification"],
                        automatic=bool(f["automatic"]),
                        uploaded=bool(f["uploaded"]),
                        votes=tuple((v[0], v[1]) for v in votes),
                        comments=tuple(comments),
                        approvals=approvals if unblinded else None,
                    )
                )
            self._log(
                connection,
                name,
                "view request",
                workspace=row["workspace"],
                request_id=request_id,
            )
            return RequestView(
                row["id"], row["workspace"], row["author"], status, groups, tuple(files)
            )

    def requests_for(self, name: str) -> list[tuple[str, str, str, str]]:
        """(id, workspace, author, status) of the requests ``name`` may open."""
        user = self.user(name)
        connection = connect(self.database)
        try:
            rows = connection.execute("SELECT * FROM requests ORDER BY created_at, id").fetchall()
        finally:
            connection.close()
        return [
            (r["id"], r["workspace"], r["author"], r["status"])
            for r in rows
            if user.can_access(r["workspace"])
            and (r["author"] == name or (user.is_checker and r["status"] != Status.PENDING.value))
        ]

    def verify(self) -> list[str]:
        return audit.verify_audit(self.database, self.log_file)


def read_audit(database: Path) -> list[dict[str, Any]]:
    connection = connect(database)
    try:
        return [dict(r) for r in connection.execute("SELECT * FROM audit ORDER BY seq")]
    finally:
        connection.close()
