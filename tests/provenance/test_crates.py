"""Five Safes crates of a succeeded two-backend request, a failed one, a cancelled one and a
partly released one: validated offline by roc-validator at REQUIRED severity, checked against
every MUST and SHOULD of the 5s-crate 0.4 profile, and attacked."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path

import pytest

from fedsafe.provenance import vocabulary as v
from fedsafe.provenance.bag import open_bag, pack_bag
from fedsafe.provenance.build import CrateError, build_crate
from fedsafe.provenance.conformance import RULES, check, entities
from fedsafe.provenance.validator import prime_context_cache, validate_crate
from provenance import crates as c

KINDS = ["succeeded", "failed", "cancelled", "partly_released"]


@pytest.fixture(scope="module")
def context_cache(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("http") / "cache"
    prime_context_cache(path)
    return path


def make(kind: str, tmp: Path, backend: str | None = None) -> tuple[bytes, Path]:
    released, decisions = [], []
    if kind == "partly_released":
        record, released, decisions = c.partly_released()
    else:
        record = getattr(c, kind)()
    root = build_crate(
        record,
        tmp / f"bag-{kind}-{backend}",
        backend=backend,
        released=released,
        decisions=decisions,
        code_archive=b"PK\x05\x06" + b"\0" * 18,  # an empty zip, as git archive makes it
        now=c.T0.replace(hour=15),
    )
    return pack_bag(root, f"urn:uuid:{record.crate_uuid}", f"request-7-{kind}"), root


@pytest.mark.parametrize("backend", [None, "north"])
@pytest.mark.parametrize("kind", KINDS)
def test_each_crate_passes_roc_validator_and_the_profile(kind, backend, tmp_path, context_cache):
    data, root = make(kind, tmp_path, backend)
    assert validate_crate(root, context_cache) == []
    bag = open_bag(data, tmp_path / "opened")
    assert check(bag.metadata, bag) == []
    assert bag.info["External-Identifier"] == "urn:uuid:9796155a-fe44-4614-89b8-71945f718ffb"
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert {n.split("/")[0] for n in names} == {f"request-7-{kind}"}
    assert f"request-7-{kind}/manifest-sha512.txt" in names
    assert f"request-7-{kind}/tagmanifest-sha512.txt" in names
    assert (
        Path(tmp_path / "opened" / f"request-7-{kind}" / "bagit.txt")
        .read_text()
        .startswith("BagIt-Version: 1.0")
    )


def test_validation_really_runs_a_broken_crate_fails(tmp_path, context_cache):
    _, root = make("succeeded", tmp_path)
    metadata = json.loads((root / "ro-crate-metadata.json").read_text())
    for entity in metadata["@graph"]:
        if entity["@id"] == "./":
            del entity["datePublished"], entity["license"]
    (root / "ro-crate-metadata.json").write_text(json.dumps(metadata))
    issues = validate_crate(root, context_cache)
    assert issues and all(i.severity == "REQUIRED" for i in issues)
    assert any("datePublished" in i.message or "license" in i.message for i in issues)


def test_offline_validation_needs_the_served_context(tmp_path):
    """Without the context rocrate ships in the cache, the offline validator cannot read the
    crate: so the passing runs above did resolve the context from it."""
    _, root = make("succeeded", tmp_path)
    empty = tmp_path / "empty-cache"
    try:
        issues = validate_crate(root, empty)
    except Exception as exc:  # the validator may refuse outright
        assert "cache" in str(exc).lower() or "offline" in str(exc).lower()
    else:
        assert issues


def _graph(kind: str, tmp_path: Path, backend: str | None = None) -> dict:
    data, _ = make(kind, tmp_path, backend)
    return entities(open_bag(data, tmp_path / "o").metadata)


def _runs(g: dict) -> list[dict]:
    return [e for e in g.values() if e.get("@type") == "CreateAction"]


def _trail(g: dict, kind: str) -> list[dict]:
    return [e for e in g.values() if {"@id": v.SHP + kind} == e.get("additionalType")]


def test_succeeded_two_backend_crate_says_what_ran_where(tmp_path):
    g = _graph("succeeded", tmp_path)
    root = g["./"]
    assert root["conformsTo"] == {"@id": v.PROFILE}
    main = g[root["mainEntity"]["@id"]]
    assert main["version"] == c.COMMIT and main["@id"].endswith(f"?commit={c.COMMIT}")
    assert g[main["distribution"]["@id"]]["encodingFormat"] == "application/zip"
    assert g[root["sourceOrganization"]["@id"]] == {**g["#project-3"], "@type": "Project"}
    runs = _runs(g)
    assert sorted(r["name"].split("on backend ")[1].split()[0] for r in runs) == ["north", "south"]
    for run in runs:
        assert run["actionStatus"] == v.COMPLETED
        assert run["agent"] == {"@id": "#person-rita"} and run["instrument"] == root["mainEntity"]
        assert run["startTime"] == "2026-11-23T09:01:00+00:00"
        assert run["endTime"] == "2026-11-23T09:09:00+00:00"
        values = sorted(g[o["@id"]]["value"] for o in run["object"])
        assert values[:2] == ["generate", "model"]
    assert g["#person-rita"]["affiliation"] == {"@id": "#affiliation"}
    assert len(_trail(g, "CheckValue")) == 1 and len(_trail(g, "ValidationCheck")) == 1
    assert {s["actionStatus"] for s in _trail(g, "SignOff")} == {v.COMPLETED}
    assert len(_trail(g, "SignOff")) == 2
    assert [d["actionStatus"] for d in _trail(g, "DisclosureCheck")] == [v.POTENTIAL] * 2
    [update] = [e for e in g.values() if e.get("@type") == "UpdateAction"]
    assert update["actionStatus"] == v.COMPLETED


def test_failed_and_cancelled_crates(tmp_path):
    g = _graph("failed", tmp_path / "f")
    status = {r["name"].split("on backend ")[1].split()[0]: r for r in _runs(g)}
    assert status["north"]["actionStatus"] == v.FAILED
    assert "KeyError" in status["north"]["error"]
    assert status["south"]["actionStatus"] == v.COMPLETED
    g = _graph("cancelled", tmp_path / "c")
    assert {r["actionStatus"] for r in _runs(g)} == {v.FAILED}
    signoffs = {s["name"]: s["actionStatus"] for s in _trail(g, "SignOff")}
    assert sorted(signoffs.values()) == [v.COMPLETED, v.POTENTIAL]  # south never took it


def test_partly_released_crate_lists_released_files_and_never_a_rejected_one(tmp_path):
    data, _ = make("partly_released", tmp_path)
    text = zipfile.ZipFile(io.BytesIO(data))
    names = text.namelist()
    everything = b"".join(text.read(n) for n in names)
    assert "request-7-partly_released/data/outputs/north/output/table.csv" in names
    assert b"small_counts" not in everything and c.REJECTED not in everything
    g = _graph("partly_released", tmp_path / "g")
    north = next(r for r in _runs(g) if "north" in r["name"])
    [result] = north["result"]
    assert g[result["@id"]]["sha256"] == __import__("hashlib").sha256(c.TABLE).hexdigest()
    assert result in g["./"]["hasPart"]
    decisions = _trail(g, "DisclosureCheck")
    agents = sorted(g[d["agent"]["@id"]]["@type"] for d in decisions)
    assert agents == ["Person", "Person", "SoftwareApplication", "SoftwareApplication"]
    assert sorted(d["actionStatus"] for d in decisions).count(v.FAILED) == 1


def test_a_file_path_escaping_its_folder_is_refused(tmp_path):
    from fedsafe.provenance.records import ReleasedFileRecord

    with pytest.raises(CrateError, match="must be relative"):
        build_crate(
            c.succeeded(),
            tmp_path / "b",
            released=[ReleasedFileRecord("north", "../../etc/passwd", "0" * 64, b"x")],
            now=c.T0,
        )


# Every rule of the profile the checker knows, broken on its own in a good crate.
def _first(g, type_):
    return next(e for e in g if e.get("@type") == type_ or type_ in (e.get("@type") or []))


def _assess(g, kind):
    return next(e for e in g if e.get("additionalType") == {"@id": v.SHP + kind})


def _root(g):
    return next(e for e in g if e["@id"] == "./")


BREAKS = {
    "bag.no-escape": lambda g: _root(g).update(hasPart=[{"@id": "../fetch.txt"}]),
    "descriptor.version": lambda g: _first(g, "CreativeWork").update(
        conformsTo={"@id": "https://w3id.org/ro/crate/1.1"}
    ),
    "root.id": lambda g: next(e for e in g if e["@id"] == "ro-crate-metadata.json").update(
        about={"@id": "root/"}
    ),
    "root.profile": lambda g: _root(g).pop("conformsTo"),
    "main.entity": lambda g: _root(g).update(mainEntity={"@id": "#nothing"}),
    "main.distribution": lambda g: next(
        e for e in g if "version" in e and e.get("@type") == "Dataset"
    ).pop("distribution"),
    "run.present": lambda g: [
        g.remove(r) for r in [e for e in g if e.get("@type") == "CreateAction"]
    ],
    "run.uuid": lambda g: _first(g, "CreateAction").update({"@id": "#run-north"}),
    "run.instrument": lambda g: _first(g, "CreateAction").update(instrument={"@id": "#other"}),
    "run.agent": lambda g: _first(g, "CreateAction").pop("agent"),
    "run.affiliation": lambda g: _first(g, "Person").pop("affiliation"),
    "run.status": lambda g: _first(g, "CreateAction").update(
        actionStatus="http://schema.org/CompletetedActionStatus"
    ),
    "run.inputs": lambda g: _first(g, "CreateAction")["object"].append({"@id": "#missing"}),
    "run.inputs-parameter": lambda g: next(e for e in g if e["@id"] == "#action-model").pop(
        "exampleOfWork"
    ),
    "run.result-types": lambda g: next(e for e in g if e["@id"].startswith("outputs/")).update(
        {"@type": "CreativeWork"}
    ),
    "project.source": lambda g: _root(g).pop("sourceOrganization"),
    "project.member": lambda g: _first(g, "Person").pop("memberOf"),
    "assess.name": lambda g: _assess(g, "SignOff").pop("name"),
    "assess.status": lambda g: _assess(g, "SignOff").pop("actionStatus"),
    "assess.object": lambda g: _assess(g, "CheckValue").update(object={"@id": "#x"}),
    "assess.end": lambda g: _assess(g, "CheckValue").update(endTime="2026-11-23 09:00"),
    "assess.agent": lambda g: _assess(g, "CheckValue").pop("agent"),
    "assess.provider": lambda g: _first(g, "SoftwareApplication").pop("provider"),
    "assess.validation": lambda g: _assess(g, "ValidationCheck").pop("instrument"),
    "publish.mentions": lambda g: _root(g).update(
        mentions=[m for m in _root(g)["mentions"] if "signoff" not in m["@id"]]
    ),
    "publish.has-part": lambda g: _root(g).update(
        hasPart=[p for p in _root(g)["hasPart"] if not p["@id"].startswith("outputs/")]
    ),
    "publish.date": lambda g: _root(g).pop("datePublished"),
    "publish.publisher": lambda g: _root(g).pop("publisher"),
    "publish.licence": lambda g: _root(g).pop("license"),
}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("good")
    data, _ = make("partly_released", tmp)
    bag = open_bag(data, tmp / "o")
    assert check(bag.metadata, bag) == []
    return bag


@pytest.mark.parametrize("rule", sorted(BREAKS))
def test_each_profile_rule_catches_its_break(rule, good):
    metadata = copy.deepcopy(good.metadata)
    BREAKS[rule](metadata["@graph"])
    assert rule in {f.rule for f in check(metadata, good)}


def test_bag_rules_catch_their_breaks(good):
    from dataclasses import replace

    assert {f.rule for f in check(good.metadata, replace(good, tag_manifests=frozenset()))} == {
        "bag.tagmanifest"
    }
    info = {k: x for k, x in good.info.items() if k != "External-Identifier"}
    assert {f.rule for f in check(good.metadata, replace(good, info=info))} >= {"bag.external-id"}
    info = {**good.info, "External-Identifier": "request-7"}
    assert {f.rule for f in check(good.metadata, replace(good, info=info))} == {
        "bag.external-id-uuid"
    }
    only = replace(good, payload=frozenset({"ro-crate-metadata.json"}))
    assert {f.rule for f in check(good.metadata, only)} == {"bag.payload"}


def test_a_submitted_request_must_be_potential(good):
    assert "run.potential" in {f.rule for f in check(good.metadata, good, phase="request")}


def test_every_rule_is_tested():
    untested = (
        set(RULES)
        - set(BREAKS)
        - {
            "bag.tagmanifest",
            "bag.external-id",
            "bag.external-id-uuid",
            "bag.payload",
            "run.potential",
            "bag.manifest",  # open_bag refuses such a bag: see test_bag_attacks
        }
    )
    assert untested == set()


@pytest.mark.parametrize(
    "attack, message",
    [
        ("tamper", "checksums do not match"),
        ("no-manifest", "sha-512 payload manifest"),
        ("two-tops", "exactly one top-level folder"),
        ("escape", "escapes the bag"),
        ("not-zip", "not a zip"),
    ],
)
def test_bag_attacks_are_refused(attack, message, tmp_path):
    data, _ = make("succeeded", tmp_path)
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            body = src.read(name)
            if attack == "tamper" and name.endswith("ro-crate-metadata.json"):
                body = body.replace(b"HbA1c", b"HBA1C")
            if attack == "no-manifest" and name.endswith("/manifest-sha512.txt"):
                continue
            dst.writestr(name, body)
        if attack == "two-tops":
            dst.writestr("other/file.txt", b"x")
        if attack == "escape":
            dst.writestr("request-7-succeeded/../../evil.txt", b"x")
    payload = b"not a zip" if attack == "not-zip" else out.getvalue()
    with pytest.raises(CrateError, match=message):
        open_bag(payload, tmp_path / "o")
