"""Answers in RQuest v2's result format, so an RQuest-style hub can read them.

A count answer is ``{"status", "protocolVersion", "uuid", "collection_id", "message",
"queryResult": {"count", "datasetCount", "files"}}``. Distribution answers carry their table as
a file: tab-separated text, base64-encoded, with RQuest's columns. Only safe counts are ever
passed in here; this module never sees a raw one.
"""

from __future__ import annotations

import base64
from typing import Any

from fedsafe.cohort.answer import CountAnswer
from fedsafe.cohort.distribution import CodeCount, Demographics

TSV_COLUMNS = (
    "BIOBANK", "CODE", "COUNT", "DESCRIPTION", "MIN", "Q1", "MEDIAN", "MEAN", "Q3", "MAX",
    "ALTERNATIVES", "DATASET", "OMOP", "OMOP_DESCR", "CATEGORY",
)  # fmt: skip


def _envelope(
    status: str, uuid: str, collection: str, count: int | None, files: list, message: str
) -> dict[str, Any]:
    return {
        "status": status,
        "protocolVersion": "v2",
        "uuid": uuid,
        "collection_id": collection,
        "message": message,
        "queryResult": {"count": count, "datasetCount": 0, "files": files},
    }


def count_result(answer: CountAnswer, *, uuid: str = "", collection: str = "") -> dict[str, Any]:
    """A refused answer has status ``"error"`` and no count, so a hub cannot mistake it for 0."""
    status = "ok" if answer.status == "ok" else "error"
    return _envelope(status, uuid, collection, answer.count, [], answer.message)


def tsv(rows: list[dict[str, Any]]) -> str:
    lines = ["\t".join(TSV_COLUMNS)]
    for row in rows:
        lines.append("\t".join(str(row.get(c, "")) for c in TSV_COLUMNS))
    return "\n".join(lines) + "\n"


def file_entry(name: str, description: str, text: str) -> dict[str, Any]:
    data = text.encode("utf-8")
    return {
        "file_name": name,
        "file_description": description,
        "file_type": "BCOS",
        "file_sensitive": True,
        "file_reference": "",
        "file_size": round(len(data) / 1024, 3),
        "file_data": base64.b64encode(data).decode("ascii"),
    }


def codes_result(
    counts: tuple[CodeCount, ...], *, uuid: str = "", collection: str = ""
) -> dict[str, Any]:
    rows = [
        {
            "BIOBANK": collection,
            "CODE": c.code,
            "COUNT": c.count,
            "DATASET": c.table,
            "CATEGORY": c.table,
        }
        for c in counts
    ]
    files = [file_entry("code.distribution", "Patients per code (safe counts)", tsv(rows))]
    return _envelope("ok", uuid, collection, len(rows), files, "")


def _alternatives(pairs: tuple[tuple[str, int], ...]) -> str:
    return "^" + "^".join(f"{k}|{n}" for k, n in pairs) + "^"


def demographics_result(d: Demographics, *, uuid: str = "", collection: str = "") -> dict[str, Any]:
    common = {"BIOBANK": collection, "COUNT": d.total, "DATASET": "patients"}
    rows = [
        {**common, "CODE": "SEX", "DESCRIPTION": "Sex", "ALTERNATIVES": _alternatives(d.by_sex)},
        {
            **common,
            "CODE": "AGE",
            "DESCRIPTION": "Age band (years)",
            "ALTERNATIVES": _alternatives(d.by_age_band),
        },
    ]
    for row in rows:
        row["CATEGORY"] = "DEMOGRAPHICS"
    files = [file_entry("demographics.distribution", "Patients by sex and age band", tsv(rows))]
    return _envelope("ok", uuid, collection, len(rows), files, "")
