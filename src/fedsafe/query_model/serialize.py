"""Query models to JSON and back, exactly.

The JSON is a flat list of nodes, children before parents, each referring to others by index, so
a subexpression used many times (a filtered frame, a codelist) is written once. Loading rebuilds
every node through its constructor: a tampered or malformed document fails validation rather than
producing a query no one wrote.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
from typing import Any

from fedsafe.codes import BaseCode, code_type_for
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.schema import CONSTRAINT_TYPES, Column, TableSchema
from fedsafe.query_model.types import is_valid_type, type_from_name, type_name

FORMAT_VERSION = 1

NODE_TYPES: dict[str, type[qm.Node]] = {
    cls.__name__: cls
    for cls in (
        qm.SelectTable,
        qm.SelectPatientTable,
        qm.InlinePatientTable,
        qm.Filter,
        qm.Sort,
        qm.PickOneRowPerPatient,
        qm.SelectColumn,
        qm.Value,
        qm.ValueSet,
        qm.Function,
        qm.Case,
        qm.Aggregate,
        qm.CountEpisodes,
        qm.Dataset,
        qm.IntervalDate,
        qm.Measure,
        qm.Measures,
    )
}
ENUM_TYPES: dict[str, type[enum.Enum]] = {
    cls.__name__: cls for cls in (qm.Op, qm.AggOp, qm.Position, qm.IntervalBound)
}
VALUE_CLASSES: dict[str, type] = {"Column": Column, "TableSchema": TableSchema}
VALUE_CLASSES.update({f"Constraint.{name}": cls for name, cls in CONSTRAINT_TYPES.items()})
_VALUE_CLASS_NAMES = {cls: name for name, cls in VALUE_CLASSES.items()}


class SerializationError(ValueError):
    """A serialised query model that cannot be loaded."""


class _Writer:
    def __init__(self) -> None:
        self.nodes: list[dict[str, Any]] = []
        self.ids: dict[qm.Node, int] = {}

    def node_id(self, node: qm.Node) -> int:
        existing = self.ids.get(node)
        if existing is not None:
            return existing
        record: dict[str, Any] = {"node": type(node).__name__}
        for f in dataclasses.fields(node):
            record[f.name] = self.encode(getattr(node, f.name))
        self.ids[node] = len(self.nodes)
        self.nodes.append(record)
        return self.ids[node]

    def encode(self, value: Any) -> Any:
        if isinstance(value, qm.Node):
            return {"$ref": self.node_id(value)}
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return {"$float": repr(value)}
        if isinstance(value, datetime.date):
            return {"$date": value.isoformat()}
        if isinstance(value, BaseCode):
            return {"$code": value.system_id, "value": value.value}
        if isinstance(value, enum.Enum):
            return {"$enum": type(value).__name__, "name": value.name}
        if isinstance(value, type) and is_valid_type(value):
            return {"$type": type_name(value)}
        if isinstance(value, tuple):
            return [self.encode(v) for v in value]
        if type(value) in _VALUE_CLASS_NAMES:
            record = {"$value": _VALUE_CLASS_NAMES[type(value)]}
            for f in dataclasses.fields(value):
                if f.init:
                    record[f.name] = self.encode(getattr(value, f.name))
            return record
        raise SerializationError(f"cannot serialise {value!r} ({type(value).__name__})")


def to_jsonable(node: qm.Node) -> dict[str, Any]:
    writer = _Writer()
    root = writer.node_id(node)
    return {
        "format": "fedsafe-query-model",
        "version": FORMAT_VERSION,
        "nodes": writer.nodes,
        "root": root,
    }


def dumps(node: qm.Node) -> str:
    """The JSON text for a query model."""
    return json.dumps(to_jsonable(node), separators=(",", ":"), allow_nan=False)


class _Reader:
    def __init__(self, records: list[Any]) -> None:
        self.records = records
        self.built: list[qm.Node] = []

    def build_all(self) -> None:
        for index, record in enumerate(self.records):
            kind = record.get("node") if isinstance(record, dict) else None
            if not isinstance(kind, str) or kind not in NODE_TYPES:
                raise SerializationError(f"node {index}: unknown or missing node type")
            cls = NODE_TYPES[record["node"]]
            kwargs = {}
            for f in dataclasses.fields(cls):
                if f.name not in record:
                    raise SerializationError(f"node {index} ({cls.__name__}): missing {f.name!r}")
                kwargs[f.name] = self.decode(record[f.name], index)
            extra = set(record) - {"node"} - {f.name for f in dataclasses.fields(cls)}
            if extra:
                raise SerializationError(f"node {index}: unexpected fields {sorted(extra)}")
            try:
                self.built.append(cls(**kwargs))
            except (qm.QueryModelError, TypeError, ValueError) as error:
                raise SerializationError(
                    f"node {index} ({cls.__name__}) is invalid: {error}"
                ) from error

    def decode(self, value: Any, index: int) -> Any:
        if value is None or isinstance(value, bool | int | str):
            return value
        if isinstance(value, list):
            return tuple(self.decode(v, index) for v in value)
        if not isinstance(value, dict):
            raise SerializationError(f"node {index}: cannot read {value!r}")
        tags = [k for k in value if k.startswith("$")]
        allowed = {"$code": {"$code", "value"}, "$enum": {"$enum", "name"}}
        if len(tags) != 1 or (
            tags[0] != "$value" and set(value) != allowed.get(tags[0], {tags[0]})
        ):
            raise SerializationError(f"node {index}: cannot read {value!r}")
        if "$ref" in value:
            ref = value["$ref"]
            if not isinstance(ref, int) or isinstance(ref, bool) or not 0 <= ref < len(self.built):
                raise SerializationError(f"node {index}: reference {ref!r} is not an earlier node")
            return self.built[ref]
        try:
            if "$float" in value:
                return float(value["$float"])
            if "$date" in value:
                return datetime.date.fromisoformat(value["$date"])
            if "$code" in value:
                return code_type_for(value["$code"])(value["value"])
            if "$enum" in value:
                return ENUM_TYPES[value["$enum"]][value["name"]]
            if "$type" in value:
                return type_from_name(value["$type"])
            if "$value" in value:
                cls = VALUE_CLASSES[value["$value"]]
                fields = {k: self.decode(v, index) for k, v in value.items() if k != "$value"}
                return cls(**fields)
        except (KeyError, TypeError, ValueError) as error:
            raise SerializationError(f"node {index}: cannot read {value!r}: {error}") from error
        raise SerializationError(f"node {index}: cannot read {value!r}")


def from_jsonable(document: Any) -> qm.Node:
    if not isinstance(document, dict) or document.get("format") != "fedsafe-query-model":
        raise SerializationError("not a fedsafe query model")
    version = document.get("version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise SerializationError(
            f"query model format version {document.get('version')!r} is not supported "
            f"(this fedsafe reads version {FORMAT_VERSION})"
        )
    records = document.get("nodes")
    if not isinstance(records, list) or not records:
        raise SerializationError("query model has no nodes")
    reader = _Reader(records)
    reader.build_all()
    root = document.get("root")
    if type(root) is not int or not 0 <= root < len(reader.built):
        raise SerializationError("query model root is not one of its nodes")
    return reader.built[root]


def loads(text: str) -> qm.Node:
    """The query model in ``text``, validated as it is rebuilt."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise SerializationError(f"query model is not valid JSON: {error}") from error
    return from_jsonable(document)
