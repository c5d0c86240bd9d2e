"""The agent's cohort-discovery step: lease the cohort queries waiting for this backend, answer
each on the backend's own database with ``fedsafe.cohort.service``, send back only the safe part.

The backend's cohort policy (its configuration's ``[cohort]``; default: below 10 -> 0, nearest
10, halves up) and its
differencing ledger are applied by the service, which writes the raw count to the backend's
own audit log (``cohort-audit.jsonl`` next to the agent's state) before anything is returned.
What leaves is built here from the service's answer, field by field: a safe count and the rule,
or a class of refusal. Nothing else in the service's result (and no raw number) is copied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fedsafe.agent.client import AgentClient, ApiRefused
from fedsafe.agent_protocol.cohort import CohortAnswerIn, CohortQueryOut, CohortRefusalIn
from fedsafe.backends.backend import Backend
from fedsafe.backends.config import BackendConfig
from fedsafe.backends.logical import connect_logical
from fedsafe.cohort import fedsafe_form, rquest, service
from fedsafe.cohort.audit import AuditLog
from fedsafe.cohort.errors import AuditLogError, CohortQueryError
from fedsafe.cohort.policy import CohortCountPolicy

__all__ = ["CohortAnswerer", "audit_log_path"]


def audit_log_path(config: BackendConfig) -> Path:
    """The backend's cohort audit log and ledger: beside the agent's state, never sent."""
    return config.agent.state.parent / "cohort-audit.jsonl"


def safe_part(result: dict) -> CohortAnswerIn | CohortRefusalIn:
    """What may leave, from the service's (already safe) answer in fedsafe's form."""
    if result.get("status") == "ok" and isinstance(result.get("count"), int):
        return CohortAnswerIn(safe_count=result["count"], rule=result["rule"])
    decision = result.get("decision")
    return CohortRefusalIn(refused="DifferencingRefused" if decision == "refused" else "Refused")


@dataclass
class CohortAnswerer:
    config: BackendConfig
    client: AgentClient
    log: Callable[[str], None]

    @property
    def policy(self) -> CohortCountPolicy:
        """The backend's ``[cohort]`` settings (default: below 10 -> 0, nearest 10)."""
        settings = self.config.cohort
        return CohortCountPolicy(settings.threshold, settings.rounding_base, settings.auto_release)

    def step(self) -> int:
        """Answer every cohort query waiting now; returns how many were answered."""
        queries = self.client.lease_cohort()
        for query in queries:
            self.answer(query)
        return len(queries)

    def answer(self, query: CohortQueryOut) -> None:
        try:
            part = safe_part(self._run(query))
        except CohortQueryError:
            part = CohortRefusalIn(refused="CohortQueryError")
        except AuditLogError:
            self.log(f"cohort query {query.id}: the audit log cannot be written; not answered")
            return  # nothing leaves without its audit record; asked again after the lease
        except Exception as exc:  # one bad query must not stop the agent's jobs
            # The message stays in the backend's own log; only the class of error leaves.
            self.log(f"cohort query {query.id}: {type(exc).__name__}: {exc}")
            name = type(exc).__name__
            part = CohortRefusalIn(refused=name if name.isidentifier() else "InternalError")
        try:
            self.client.answer_cohort(query.id, part)
        except ApiRefused as exc:
            self.log(f"cohort query {query.id}: {exc}")
            return
        shown = part.safe_count if isinstance(part, CohortAnswerIn) else part.refused
        self.log(f"cohort query {query.id}: answered {shown}")

    def _run(self, query: CohortQueryOut) -> dict:
        document = query.query
        if "cohort" in document:  # RQuest v2: the same query in fedsafe's form, same semantics
            document = fedsafe_form.to_jsonable(rquest.from_jsonable(document).query)
        connection = connect_logical(Backend(self.config))
        try:
            return service.answer(
                document,
                connection,
                audit=AuditLog(audit_log_path(self.config)),
                policy=self.policy,
                user=query.user,
                form="fedsafe",
            )
        finally:
            connection.disconnect()
