"""The MUSTs and SHOULDs of the Five Safes RO-Crate profile 0.4, checked one by one.

roc-validator 0.13 does not ship this profile, so each requirement of
https://w3id.org/5s-crate/0.4 that can be checked from a crate is a rule here, with an id
naming the section it comes from. ``check`` returns every rule broken; a crate conforms when
the list is empty. ``phase="request"`` checks a crate as submitted (before it ran, so
publishing rules do not apply, and its CreateAction must still be potential).

Not a rule here: "a completed CreateAction SHOULD list its outputs under result". fedsafe lists
only released files, and a run can complete with nothing released yet (review pending) or
nothing released at all; the pending DisclosureCheck says so instead.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from fedsafe.provenance import vocabulary as v
from fedsafe.provenance.bag import OpenedBag

__all__ = ["RULES", "Finding", "check", "entities"]

RULES: dict[str, tuple[str, str]] = {
    # id: (level, what the profile says)
    "bag.manifest": ("MUST", "the BagIt payload manifest is present with sha-512"),
    "bag.tagmanifest": ("SHOULD", "the tag manifest is included as sha-512"),
    "bag.external-id": ("MUST", "bag-info.txt includes External-Identifier"),
    "bag.external-id-uuid": ("SHOULD", "External-Identifier is a UUID URN"),
    "bag.payload": ("SHOULD", "one or more payload files are present"),
    "bag.no-escape": ("MUST", "the crate references no path outside the bag's data/"),
    "descriptor.version": ("MUST", "the descriptor conformsTo RO-Crate 1.2 or a later minor"),
    "root.id": ("MUST", "the root data entity's @id is ./"),
    "root.profile": ("SHOULD", "the root dataset conformsTo https://w3id.org/5s-crate/0.4"),
    "main.entity": ("MUST", "mainEntity references a Dataset (the workflow)"),
    "main.distribution": ("SHOULD", "a URI mainEntity has a distribution to download"),
    "run.present": ("MUST", "a CreateAction exists and is referenced from the root's mentions"),
    "run.uuid": ("SHOULD", "the CreateAction's id is based on a UUID, not the External-Identifier"),
    "run.instrument": ("MUST", "the CreateAction's instrument is the mainEntity"),
    "run.agent": ("MUST", "the requesting person is the CreateAction's agent"),
    "run.affiliation": ("SHOULD", "the requesting agent has an affiliation"),
    "run.status": ("MUST", "actionStatus is one of the four schema.org statuses"),
    "run.inputs": ("MUST", "each object (input) has its own entity"),
    "run.inputs-parameter": ("SHOULD", "each input has exampleOfWork to a FormalParameter"),
    "run.result-types": (
        "SHOULD",
        "outputs are File, Dataset, Collection, DigitalDocument or PropertyValue",
    ),
    "run.potential": ("MUST", "a submitted request's CreateAction is PotentialActionStatus"),
    "project.source": ("MUST", "the root's sourceOrganization is a Project"),
    "project.member": ("SHOULD", "the requesting agent is memberOf the project"),
    "assess.name": ("MUST", "every assessment action has a human-readable name"),
    "assess.status": ("SHOULD", "every assessment action has an actionStatus"),
    "assess.object": ("SHOULD", "every assessment action has the root ./ under object"),
    "assess.end": ("SHOULD", "every completed action has an RFC 3339 endTime with a timezone"),
    "assess.agent": ("SHOULD", "every assessment action has an agent with a name"),
    "assess.provider": ("MUST", "a SoftwareApplication agent has a provider Organization"),
    "assess.validation": ("SHOULD", "a ValidationCheck's instrument is the profile"),
    "publish.mentions": ("MUST", "mentions include every AssessAction"),
    "publish.has-part": ("MUST", "hasPart includes every local result entity"),
    "publish.date": ("SHOULD", "a published crate has datePublished"),
    "publish.publisher": ("SHOULD", "a published crate has a publisher"),
    "publish.licence": ("SHOULD", "a published crate has a licence"),
}

_SCHEMA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")
_OUTPUT_TYPES = {"File", "Dataset", "Collection", "DigitalDocument", "PropertyValue"}


@dataclass(frozen=True)
class Finding:
    rule: str
    level: str
    message: str

    def __str__(self) -> str:
        return f"{self.level} {self.rule}: {self.message}"


def entities(metadata: dict[str, Any]) -> dict[str, dict[str, Any]]:
    graph = metadata.get("@graph")
    if not isinstance(graph, list):
        return {}
    return {e["@id"]: e for e in graph if isinstance(e, dict) and isinstance(e.get("@id"), str)}


def _types(entity: dict[str, Any] | None) -> set[str]:
    if not entity:
        return set()
    t = entity.get("@type", entity.get("type"))
    return {t} if isinstance(t, str) else set(t or [])


def _ids(value: Any) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [x["@id"] for x in values if isinstance(x, dict) and isinstance(x.get("@id"), str)]


def _local(eid: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", eid) and not eid.startswith("#")


def check(
    metadata: dict[str, Any],
    bag: OpenedBag | None = None,
    phase: Literal["request", "result"] = "result",
) -> list[Finding]:
    out: list[Finding] = []

    def fail(rule: str, message: str) -> None:
        out.append(Finding(rule, RULES[rule][0], message))

    graph = entities(metadata)
    if bag is not None:
        _check_bag(bag, fail)
    for eid, entity in graph.items():
        for key, value in entity.items():
            for ref in _ids(value) + ([eid] if key == "@id" else []):
                if ref.startswith("../") or "/../" in ref or ref.startswith("/"):
                    fail("bag.no-escape", f"{eid}.{key} references {ref!r}")
    descriptor = graph.get("ro-crate-metadata.json", {})
    versions = _ids(descriptor.get("conformsTo"))
    if not any(x.startswith(v.RO_CRATE_VERSIONS) for x in versions):
        fail("descriptor.version", f"ro-crate-metadata.json conformsTo {versions}")
    about = _ids(descriptor.get("about"))
    if about != ["./"] or "./" not in graph:
        fail("root.id", f"the descriptor is about {about}, not ./")
        return out
    root = graph["./"]
    if v.PROFILE not in _ids(root.get("conformsTo")):
        fail("root.profile", f"./ conformsTo {_ids(root.get('conformsTo'))}")
    main_ids = _ids(root.get("mainEntity"))
    main = graph.get(main_ids[0]) if len(main_ids) == 1 else None
    if main is None or "Dataset" not in _types(main):
        fail("main.entity", f"./ mainEntity {main_ids} is not one Dataset of the crate")
    elif not _local(main["@id"]) and not _ids(main.get("distribution")):
        fail("main.distribution", f"{main['@id']} has no distribution")
    projects = _ids(root.get("sourceOrganization"))
    if len(projects) != 1 or "Project" not in _types(graph.get(projects[0])):
        fail("project.source", f"./ sourceOrganization {projects} is not one Project")
    mentions = set(_ids(root.get("mentions")))
    runs = [e for e in graph.values() if "CreateAction" in _types(e)]
    if not runs or not all(r["@id"] in mentions for r in runs):
        fail("run.present", "no CreateAction, or one not in ./ mentions")
    external = bag.info.get("External-Identifier", "") if bag else ""
    for run in runs:
        rid = run["@id"]
        if not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", rid) or (
            external and external.removeprefix("urn:uuid:") in rid
        ):
            fail("run.uuid", f"{rid} is not a fresh UUID-based id")
        if main_ids and _ids(run.get("instrument")) != main_ids[:1]:
            fail("run.instrument", f"{rid} instrument {_ids(run.get('instrument'))}")
        agents = _ids(run.get("agent"))
        person = graph.get(agents[0]) if len(agents) == 1 else None
        if person is None or "Person" not in _types(person):
            fail("run.agent", f"{rid} agent {agents} is not one Person")
        else:
            if not _ids(person.get("affiliation")):
                fail("run.affiliation", f"{person['@id']} has no affiliation")
            if projects and projects[0] not in _ids(person.get("memberOf")):
                fail("project.member", f"{person['@id']} is not memberOf {projects[0]}")
        status = run.get("actionStatus")
        status = _ids(status)[0] if isinstance(status, dict) and _ids(status) else status
        if status not in v.STATUSES:
            fail("run.status", f"{rid} actionStatus {status!r}")
        if phase == "request" and status != v.POTENTIAL:
            fail("run.potential", f"{rid} actionStatus {status!r}")
        for oid in _ids(run.get("object")):
            entity = graph.get(oid)
            if entity is None:
                fail("run.inputs", f"{rid} object {oid} has no entity")
            elif "FormalParameter" not in {
                t for p in _ids(entity.get("exampleOfWork")) for t in _types(graph.get(p))
            }:
                fail("run.inputs-parameter", f"{oid} has no exampleOfWork FormalParameter")
        results = _ids(run.get("result"))
        for res in results:
            if not _types(graph.get(res)) & _OUTPUT_TYPES:
                fail("run.result-types", f"{res} is typed {sorted(_types(graph.get(res)))}")
    assess = [e for e in graph.values() if _types(e) & {"AssessAction", "UpdateAction"}]
    for action in assess:
        aid = action["@id"]
        if not isinstance(action.get("name"), str) or not action["name"].strip():
            fail("assess.name", f"{aid} has no name")
        status = action.get("actionStatus")
        if status not in v.STATUSES:
            fail("assess.status", f"{aid} actionStatus {status!r}")
        if "./" not in _ids(action.get("object")):
            fail("assess.object", f"{aid} object lacks ./")
        if status == v.COMPLETED and "AssessAction" in _types(action):
            end = action.get("endTime")
            if not isinstance(end, str) or not _SCHEMA_TIME.match(end):
                fail("assess.end", f"{aid} endTime {end!r}")
        for key in ("startTime", "endTime"):
            if key in action and not _SCHEMA_TIME.match(str(action[key])):
                fail("assess.end", f"{aid} {key} {action[key]!r} is not RFC 3339")
        agents = _ids(action.get("agent"))
        if not agents or not all(isinstance(graph.get(a, {}).get("name"), str) for a in agents):
            fail("assess.agent", f"{aid} agent {agents} missing or unnamed")
        for a in agents:
            if "SoftwareApplication" in _types(graph.get(a)):
                providers = _ids(graph[a].get("provider"))
                if not providers or "Organization" not in _types(graph.get(providers[0])):
                    fail("assess.provider", f"{a} has no provider Organization")
        kinds = _ids(action.get("additionalType"))
        if v.SHP + "ValidationCheck" in kinds and v.PROFILE not in _ids(action.get("instrument")):
            fail("assess.validation", f"{aid} instrument lacks the profile")
        if phase == "result" and "AssessAction" in _types(action) and aid not in mentions:
            fail("publish.mentions", f"{aid} is not in ./ mentions")
    if phase == "result":
        parts = set(_ids(root.get("hasPart")))
        for run in runs:
            for res in _ids(run.get("result")):
                if (
                    _local(res)
                    and res not in parts
                    and not any(res.startswith(p) for p in parts if p.endswith("/"))
                ):
                    fail("publish.has-part", f"{res} is not in ./ hasPart")
        if not isinstance(root.get("datePublished"), str):
            fail("publish.date", "./ has no datePublished")
        if not _ids(root.get("publisher")):
            fail("publish.publisher", "./ has no publisher")
        if not (_ids(root.get("license")) or _ids(root.get("licence")) or root.get("license")):
            fail("publish.licence", "./ has no licence")
    return out


def _check_bag(bag: OpenedBag, fail) -> None:
    # open_bag already refused bags without a valid sha-512 manifest; these catch the rest.
    if "tagmanifest-sha512.txt" not in bag.tag_manifests:
        fail("bag.tagmanifest", "no tagmanifest-sha512.txt")
    external = bag.info.get("External-Identifier")
    if not external:
        fail("bag.external-id", "bag-info.txt has no External-Identifier")
    else:
        try:
            ok = external.startswith("urn:uuid:") and bool(uuid.UUID(external[9:]))
        except ValueError:
            ok = False
        if not ok:
            fail("bag.external-id-uuid", f"External-Identifier {external!r}")
    if not bag.payload - {"ro-crate-metadata.json", "ro-crate-preview.html"}:
        fail("bag.payload", "no payload file besides the metadata")


def summary(findings: Iterable[Finding]) -> str:
    return "; ".join(str(f) for f in findings)
