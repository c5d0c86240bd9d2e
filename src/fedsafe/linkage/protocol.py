"""The two sides of one job's linkage, as steps that exchange bytes through a relay.

The relay (the coordinator, next session) carries four messages and can read none of what
matters in them:

1. A -> B ``Opening``: A's key-check value, A's job public key, the cohort size, and the PSI
   request (blinded cohort pseudonyms).
2. B -> A ``Answer``: B checks A's key-check value first (a mismatch stops B before it computes
   anything); then B's key-check value, B's job public key, and the PSI setup and response.
3. A -> B: the matched pseudonyms sealed to B's job key (in the fallback, the whole cohort's).
4. B -> A: the extract sealed to A's job key, bound to the project and job.

A then opens the payload inside its job, swaps each pseudonym for its own patient id, and keeps
the rows only in the job's :class:`~fedsafe.linkage.vault.JobVault`. Every step is recorded in
each side's audit log.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import ibis
import pyarrow as pa

from fedsafe.linkage import matching
from fedsafe.linkage.audit import LinkageAudit
from fedsafe.linkage.declaration import LinkageDeclaration
from fedsafe.linkage.errors import LinkageError, LinkageRefused
from fedsafe.linkage.extract import (
    PSEUDONYM,
    build_extract,
    pack_extract,
    patients_with_rows,
    unpack_extract,
)
from fedsafe.linkage.identifiers import Normalised, normalise_nhs_numbers
from fedsafe.linkage.keys import LinkageSecret, confirm_same_key, derive_job_key, pseudonymise
from fedsafe.linkage.permission import LinkagePermission, check_declaration
from fedsafe.linkage.sealing import JobKeyPair, job_binding, open_sealed, payload_hash, seal
from fedsafe.linkage.vault import JobVault

__all__ = ["Answer", "Opening", "Provider", "Requester"]


@dataclass(frozen=True)
class Opening:
    check_value: str
    public_key: bytes
    cohort_size: int
    psi_request: bytes | None  # None: the fallback (no PSI)


@dataclass(frozen=True)
class Answer:
    check_value: str
    public_key: bytes
    psi_setup: bytes | None
    psi_response: bytes | None


@dataclass
class Requester:
    """Backend A's side, living inside one job."""

    project: str
    job_id: str
    secret: LinkageSecret = field(repr=False)
    declaration: LinkageDeclaration
    audit: LinkageAudit
    permission: LinkagePermission | None
    requester: str
    use_psi: bool = True
    normalised: Normalised | None = None
    _keys: JobKeyPair = field(default_factory=JobKeyPair.generate, repr=False)
    _pseudonyms: dict[str, int] = field(default_factory=dict, repr=False)
    _psi: matching.Requester | None = field(default=None, repr=False)
    _matched: frozenset[str] = field(default=frozenset(), repr=False)

    def __post_init__(self) -> None:
        self._job_key = derive_job_key(self.secret, self.project, self.job_id)

    def open(self, cohort: Iterable[tuple[int, object]], *, now: datetime.datetime) -> Opening:
        """Normalise and pseudonymise the cohort (only the cohort) and make the first message."""
        _check(self.declaration, self.permission, now, self, self.requester)
        self.normalised = normalise_nhs_numbers(cohort)
        pseudonyms = pseudonymise(self._job_key, self.normalised.identifiers)
        self._pseudonyms = dict(zip(pseudonyms, self.normalised.patient_ids, strict=True))
        self.audit.keys(
            self.job_id,
            self.project,
            linkage_key_id=self._job_key.key_id,
            job_public_key_id=self._keys.key_id,
        )
        request = None
        if self.use_psi:
            self._psi = matching.Requester(pseudonyms)
            request = self._psi.request()
        return Opening(self._job_key.check_value, self._keys.public_bytes, len(pseudonyms), request)

    def send_matched(self, answer: Answer, *, provider: str) -> bytes:
        """Check B's key, learn the intersection, and seal the pseudonyms B must answer for."""
        confirm_same_key(self._job_key, answer.check_value, their_backend=provider)
        if self._psi is not None:
            if answer.psi_setup is None or answer.psi_response is None:
                raise LinkageError(f"backend {provider!r} did not answer the PSI request")
            chosen = self._psi.matched(answer.psi_setup, answer.psi_response)
        else:
            chosen = list(self._pseudonyms)  # FALLBACK: the whole cohort's pseudonyms
        self._matched = frozenset(chosen)
        assert self.normalised is not None
        self.audit.matched(
            self.job_id,
            self.project,
            cohort=len(self._pseudonyms),
            failed_normalisation=self.normalised.failed,
            matched=len(chosen),
            psi=self._psi is not None,
        )
        return seal(
            answer.public_key,
            matching.encode_pseudonyms(chosen),
            job_binding(self.project, self.job_id, "matched"),
        )

    def receive(self, sealed: bytes, vault: JobVault) -> dict[str, int]:
        """Open the extract, swap pseudonyms for A's patient ids, keep it only in the vault."""
        plain = open_sealed(self._keys, sealed, job_binding(self.project, self.job_id, "extract"))
        extract = unpack_extract(plain)
        _only_declared(extract.tables, self.declaration)
        local_tables = {}
        for name, table in extract.tables.items():  # check every table before keeping any
            pseudonyms = table.column(PSEUDONYM).to_pylist()
            unknown = sum(1 for p in pseudonyms if p not in self._matched)
            if unknown:
                raise LinkageError(
                    f"the extract's {name} holds {unknown} rows for patients this job did not "
                    "ask for; nothing from it was kept"
                )
            ids = pa.array([self._pseudonyms[p] for p in pseudonyms], pa.int64())
            local_tables[name] = table.drop_columns([PSEUDONYM]).add_column(0, "patient_id", ids)
        for name, local in local_tables.items():
            vault.put(name, _ipc(local))
        rows = sum(t.num_rows for t in local_tables.values())
        counts = {"rows": rows, "bytes": len(sealed), "patients": extract.patients}
        self.audit.transferred(
            self.job_id,
            self.project,
            direction="received",
            payload_hash=payload_hash(sealed),
            **counts,
        )
        return counts


def _only_declared(tables: Mapping[str, pa.Table], declaration: LinkageDeclaration) -> None:
    """A keeps nothing it did not declare, whatever B sent (B may be misconfigured)."""
    for name, table in tables.items():
        request = declaration.table(name)
        if request is None:
            raise LinkageError(f"the extract holds table {name}, which the action did not declare")
        if table.column_names != [PSEUDONYM, *request.columns]:
            extra = sorted(set(table.column_names) - {PSEUDONYM, *request.columns})
            raise LinkageError(
                f"the extract's {name} has columns {', '.join(table.column_names)}, not the "
                f"declared ones" + (f" (undeclared: {', '.join(extra)})" if extra else "")
            )


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def read_ipc(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(data).read_all()


@dataclass
class Provider:
    """Backend B's side for one job: its population's identifiers and its logical tables."""

    project: str
    job_id: str
    secret: LinkageSecret = field(repr=False)
    declaration: LinkageDeclaration
    audit: LinkageAudit
    permission: LinkagePermission | None
    population: Iterable[tuple[int, object]] = field(repr=False)
    tables: Mapping[str, ibis.Table] = field(repr=False)
    _keys: JobKeyPair = field(default_factory=JobKeyPair.generate, repr=False)
    _ids: dict[str, int] = field(default_factory=dict, repr=False)
    _peer_public: bytes = field(default=b"", repr=False)
    considered: int = 0  # B's patients with rows to send, who took part in matching

    def __post_init__(self) -> None:
        self._job_key = derive_job_key(self.secret, self.project, self.job_id)

    def answer(self, opening: Opening, *, requester: str, now: datetime.datetime) -> Answer:
        """Check the permission (again: B trusts no one's word for it) and the key first."""
        _check(self.declaration, self.permission, now, self, requester)
        confirm_same_key(self._job_key, opening.check_value, their_backend=requester)
        # Only patients with something to send take part in matching (see patients_with_rows).
        eligible = patients_with_rows(self.tables, self.declaration)
        normalised = normalise_nhs_numbers((p, n) for p, n in self.population if p in eligible)
        self.considered = len(normalised.identifiers)
        pseudonyms = pseudonymise(self._job_key, normalised.identifiers)
        self._ids = dict(zip(pseudonyms, normalised.patient_ids, strict=True))
        self._peer_public = opening.public_key
        self.audit.keys(
            self.job_id,
            self.project,
            linkage_key_id=self._job_key.key_id,
            job_public_key_id=self._keys.key_id,
        )
        setup = response = None
        if opening.psi_request is not None:
            setup, response = matching.Provider(pseudonyms).respond(
                opening.psi_request, opening.cohort_size
            )
        return Answer(self._job_key.check_value, self._keys.public_bytes, setup, response)

    def send_extract(self, sealed_matched: bytes) -> bytes:
        chosen = matching.decode_pseudonyms(
            open_sealed(
                self._keys, sealed_matched, job_binding(self.project, self.job_id, "matched")
            )
        )
        found = [p for p in dict.fromkeys(chosen) if p in self._ids]
        extract = build_extract(self.tables, [self._ids[p] for p in found], found, self.declaration)
        sealed = seal(
            self._peer_public,
            pack_extract(extract),
            job_binding(self.project, self.job_id, "extract"),
        )
        self.audit.matched(
            self.job_id, self.project, population_considered=self.considered, matched=len(found)
        )
        self.audit.transferred(
            self.job_id,
            self.project,
            direction="sent",
            payload_hash=payload_hash(sealed),
            rows=extract.rows,
            bytes=len(sealed),
            patients=extract.patients,
        )
        self._ids.clear()  # B keeps nothing of the job once the payload is sealed
        self.audit.deleted(
            _NothingKept(self.project, self.job_id, datetime.datetime.now(datetime.UTC))
        )
        return sealed


@dataclass(frozen=True)
class _NothingKept:
    """B's deletion record: the extract was built in memory, sealed, and dropped."""

    project: str
    job_id: str
    at: datetime.datetime
    reason: str = "sent; nothing kept"
    files: int = 0
    bytes: int = 0
    data_key_id: str = ""


def _check(
    declaration: LinkageDeclaration,
    permission: LinkagePermission | None,
    now: datetime.datetime,
    side: Requester | Provider,
    requester: str,
) -> None:
    side.audit.requested(
        side.job_id,
        side.project,
        role="requester" if isinstance(side, Requester) else "provider",
        declaration=declaration.to_public(),
        permission=None if permission is None else permission.to_public(),
    )
    try:
        check_declaration(declaration, permission, now, project=side.project, requester=requester)
    except LinkageRefused as exc:
        side.audit.refused(side.job_id, side.project, "; ".join(exc.problems))
        raise
