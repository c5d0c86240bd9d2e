"""Records of the four kinds of request the crates must describe, made directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fedsafe.provenance.records import (
    DisclosureDecision,
    JobRecord,
    PersonRecord,
    ReleasedFileRecord,
    RequestRecord,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def record(jobs: list[JobRecord], cancelled: bool = False, uid: str = "") -> RequestRecord:
    return RequestRecord(
        request_id=7,
        crate_uuid=uid or "9796155a-fe44-4614-89b8-71945f718ffb",
        base_url="https://coordinator.example.org/",
        organisation="Example federation operator",
        project="diabetes",
        project_id=3,
        workspace="hba1c",
        repo_url="https://example.org/hba1c.git",
        branch="main",
        commit=COMMIT,
        actions=("generate", "model"),
        requested_backends="all",
        reason="HbA1c trends by region",
        person=PersonRecord("rita", "Rita Researcher", "University of Example"),
        created_at=T0,
        jobs=tuple(jobs),
        cancelled_at=T0 + timedelta(minutes=3) if cancelled else None,
    )


def job(backend: str, action: str, state: str, leased: bool = True, **kw) -> JobRecord:
    started = T0 + timedelta(minutes=1) if state != "pending" and leased else None
    finished = T0 + timedelta(minutes=9) if state in {"succeeded", "failed", "cancelled"} else None
    return JobRecord(backend, action, state, started, finished, leased=leased, **kw)


def succeeded() -> RequestRecord:
    return record(
        [
            job(b, a, "succeeded", exit_code=0)
            for b in ("north", "south")
            for a in ("generate", "model")
        ]
    )


def failed() -> RequestRecord:
    return record(
        [
            job("north", "generate", "succeeded", exit_code=0),
            job("north", "model", "failed", exit_code=1, error="KeyError: column 'x'"),
            job("south", "generate", "succeeded", exit_code=0),
            job("south", "model", "succeeded", exit_code=0),
        ]
    )


def cancelled() -> RequestRecord:
    return record(
        [
            job("north", "generate", "cancelled"),
            job("north", "model", "cancelled", leased=False),
            job("south", "generate", "cancelled", leased=False),
            job("south", "model", "cancelled", leased=False),
        ],
        cancelled=True,
    )


TABLE = b"region,mean_hba1c\nnorth,48\n"
REJECTED = b"region,count\nisle,3\n"


def partly_released() -> tuple[RequestRecord, list[ReleasedFileRecord], list[DisclosureDecision]]:
    """Both backends succeeded; north released one table, the reviewer rejected the other
    (which a careless caller still passes in as released), south's review is pending."""
    import hashlib

    released = [
        ReleasedFileRecord("north", "output/table.csv", hashlib.sha256(TABLE).hexdigest(), TABLE),
        ReleasedFileRecord(
            "north", "output/small_counts.csv", hashlib.sha256(REJECTED).hexdigest(), REJECTED
        ),
    ]
    decisions = [
        DisclosureDecision("north", "output/table.csv", True, T0 + timedelta(hours=2), ""),
        DisclosureDecision("north", "output/table.csv", True, T0 + timedelta(hours=3), "ann"),
        DisclosureDecision(
            "north", "output/small_counts.csv", False, T0 + timedelta(hours=3), "ann"
        ),
    ]
    return succeeded(), released, decisions


def request_crate(
    tmp,
    workspace: str,
    commit: str,
    username: str = "rita",
    actions: tuple[str, ...] = ("generate",),
    backends: str = "north|south",
    status: str = "http://schema.org/PotentialActionStatus",
    with_run: bool = True,
    external: str = "urn:uuid:1d6bd3d8-4a4a-4c56-9f49-3f3f8d3f0d41",
    extra_payload: bool = False,
    padding: int = 0,
) -> bytes:
    """A request crate as a TRE-FX-style client writes it (with rocrate and bagit), including
    a self-approving AssessAction that the coordinator must drop."""
    from rocrate.rocrate import ROCrate

    from fedsafe.provenance.bag import pack_bag

    crate = ROCrate()
    main = f"https://coordinator.example.org/workspaces/{workspace}/?commit={commit}"
    root = crate.root_dataset
    root["name"] = "HbA1c request from the submission layer"
    root["description"] = "HbA1c trends, submitted as a Five Safes crate"
    if padding:  # incompressible, so the zip really is large
        root["abstract"] = __import__("secrets").token_hex(padding // 2)
    root["datePublished"] = "2026-11-23T09:00:00+00:00"
    root["license"] = {"@id": "#licence"}
    root["conformsTo"] = {"@id": "https://w3id.org/5s-crate/0.4"}
    root["mainEntity"] = {"@id": main}
    root["sourceOrganization"] = {"@id": "#project-diabetes"}
    mentions = [{"@id": "#self-approval"}]
    entities = [
        {"@id": "#licence", "@type": "CreativeWork", "name": "TRE conditions"},
        {"@id": "https://w3id.org/5s-crate/0.4", "@type": "Profile", "name": "Five Safes"},
        {
            "@id": main,
            "@type": "Dataset",
            "name": "the study",
            "conformsTo": {"@id": "https://w3id.org/workflowhub/workflow-ro-crate/1.0"},
            "distribution": {"@id": "https://example.org/study.zip"},
        },
        {"@id": "https://example.org/study.zip", "@type": "DataDownload", "name": "zip"},
        {
            "@id": "#project-diabetes",
            "@type": "Project",
            "name": "diabetes",
            "funding": {"@id": "https://gtr.ukri.org/projects?ref=10038961"},
        },
        {"@id": "https://gtr.ukri.org/projects?ref=10038961", "@type": "Grant", "name": "EOSC"},
        {"@id": "https://ror.org/027m9bs27", "@type": "Organization", "name": "Univ"},
        {
            "@id": f"#person-{username}",
            "@type": "Person",
            "name": username,
            "identifier": username,
            "affiliation": {"@id": "https://ror.org/027m9bs27"},
            "memberOf": [{"@id": "#project-diabetes"}],
        },
        {"@id": "#p-action", "@type": "FormalParameter", "name": "action"},
        {"@id": "#p-backend", "@type": "FormalParameter", "name": "backend"},
        {
            "@id": "#backends",
            "@type": "PropertyValue",
            "name": "backend",
            "value": backends,
            "exampleOfWork": {"@id": "#p-backend"},
        },
        {
            "@id": "#self-approval",
            "@type": "AssessAction",
            "additionalType": {"@id": "https://w3id.org/shp#SignOff"},
            "name": "I approve myself",
            "object": {"@id": "./"},
            "agent": {"@id": f"#person-{username}"},
            "actionStatus": "http://schema.org/CompletedActionStatus",
            "endTime": "2026-11-23T09:00:00+00:00",
        },
    ]
    for a in actions:
        entities.append(
            {
                "@id": f"#a-{a}",
                "@type": "PropertyValue",
                "name": "action",
                "value": a,
                "exampleOfWork": {"@id": "#p-action"},
            }
        )
    if with_run:
        entities.append(
            {
                "@id": "#query-5f1d2a57-8a35-4c1e-8f55-0d4f3c3f5b11",
                "@type": "CreateAction",
                "name": "Run the study",
                "actionStatus": status,
                "agent": {"@id": f"#person-{username}"},
                "instrument": {"@id": main},
                "object": [{"@id": f"#a-{a}"} for a in actions] + [{"@id": "#backends"}],
            }
        )
        mentions.append({"@id": "#query-5f1d2a57-8a35-4c1e-8f55-0d4f3c3f5b11"})
    root["mentions"] = mentions
    for e in entities:
        crate.add_jsonld(dict(e))
    out = tmp / "client-crate"
    crate.write(out / "data")
    if extra_payload:
        (out / "data" / "input.csv").write_text("a\n1\n")
    return pack_bag(out / "data", external, "request")
