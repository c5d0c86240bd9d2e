"""A configured backend: its engine, its mapping and the tables it provides, working together.

The order of events matters for safety and for clear errors. Before any query runs, a
definition's tables are compared with the tables the backend provides (refused, naming the
table, if it asks for more), and the mapped physical tables and columns are checked in the
database. Only then is the query compiled over the mapping and run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

from fedsafe.backends.config import BackendConfig
from fedsafe.backends.connect import connect_engine
from fedsafe.backends.mappings import get_mapping
from fedsafe.backends.mappings.native import logical_schema
from fedsafe.engines.execute import DEFAULT_BATCH_SIZE, run_dataset, sql_for
from fedsafe.errors import DataSourceError
from fedsafe.permissions import check_granted
from fedsafe.query_model import nodes as qm

__all__ = ["Backend", "ColumnStatus", "TableNotProvidedError"]

# Ibis dialect names for the engine URL schemes.
DIALECTS = {
    "duckdb": "duckdb",
    "sqlite": "sqlite",
    "postgres": "postgres",
    "postgresql": "postgres",
    "spark": "pyspark",
}
_KIND_TYPES = {
    "integer": "int64",
    "float": "float64",
    "string": "string",
    "date": "date",
    "boolean": "boolean",
}


class TableNotProvidedError(DataSourceError):
    """A definition uses a table the backend does not provide."""


@dataclass(frozen=True)
class ColumnStatus:
    """One line of ``fedsafe backend check``: a table or column, and what was found."""

    table: str
    column: str | None
    status: str  # "present", "missing" or "wrong type"
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "present"


def kind_matches(found: dt.DataType, kind: str) -> bool:
    if kind == "integer":
        return found.is_integer()
    if kind == "float":
        return found.is_floating() or found.is_decimal() or found.is_integer()
    if kind == "string":
        return found.is_string()
    if kind == "date":
        return found.is_date()
    if kind == "boolean":
        return found.is_boolean()
    raise ValueError(kind)


@dataclass(frozen=True)
class Backend:
    config: BackendConfig

    @property
    def mapping(self) -> Any:
        return get_mapping(self.config.mapping, dict(self.config.table_names))

    @property
    def dialect(self) -> str:
        return DIALECTS[self.config.engine.scheme]

    def requirements(self, logical: list[str] | None = None) -> dict[str, dict[str, str]]:
        return self.mapping.requirements(list(self.config.tables if logical is None else logical))

    def provided_columns(self, table: str) -> tuple[str, ...]:
        """The columns of logical ``table`` this backend's mapping provides."""
        return tuple(logical_schema(table).column_names)

    def refuse_unprovided(self, dataset: qm.Dataset) -> list[str]:
        """The logical tables a dataset uses; raise if the backend lacks any of them, or any
        column it reads (a schema such as ``tpp`` can declare more columns than the core
        tables a backend maps: ``clinical_events.ctv3_code``)."""
        used = sorted(qm.tables_used(dataset))
        missing = [t for t in used if t not in self.config.tables]
        if missing:
            raise TableNotProvidedError(
                f"backend {self.config.name!r} does not provide the table"
                f"{'s' if len(missing) > 1 else ''} {', '.join(repr(t) for t in missing)} "
                f"that this dataset definition uses: it provides " + ", ".join(self.config.tables)
            )
        lacking = sorted(
            {
                (table, node.name)
                for node in qm.walk(dataset)
                if isinstance(node, qm.SelectColumn)
                and (table := _table_of(node.source)) in used
                and node.name not in self.provided_columns(table)
            }
        )
        if lacking:
            raise TableNotProvidedError(
                f"backend {self.config.name!r} ({self.config.mapping} mapping) does not provide "
                + "; ".join(
                    f"column {column!r} of table {table!r} (it provides "
                    f"{', '.join(self.provided_columns(table))})"
                    for table, column in lacking
                )
                + ", which this dataset definition uses"
            )
        return used

    def refuse_unpermitted(self, dataset: qm.Dataset, project: str | None) -> None:
        """Refuse a dataset reading a restricted table ``project`` is not granted here (what
        the definition claims plays no part on real data)."""
        check_granted(
            dataset, self.config.granted_to(project), backend=self.config.name, project=project
        )

    def connect(self, logical: list[str] | None = None) -> ibis.BaseBackend:
        return connect_engine(self.config.engine, sorted(self.requirements(logical)))

    def check(self, con: ibis.BaseBackend, logical: list[str] | None = None) -> list[ColumnStatus]:
        """Table by table and column by column: present, missing, or of the wrong type."""
        present = set(con.list_tables())
        report = []
        for table, columns in self.requirements(logical).items():
            if table not in present:
                report.append(ColumnStatus(table, None, "missing", "table not in the database"))
                continue
            report.append(ColumnStatus(table, None, "present"))
            schema = con.table(table).schema()
            for column, kind in columns.items():
                if column not in schema:
                    report.append(ColumnStatus(table, column, "missing"))
                elif not kind_matches(schema[column], kind):
                    detail = f"has type {schema[column]}, expected {kind}"
                    report.append(ColumnStatus(table, column, "wrong type", detail))
                else:
                    report.append(ColumnStatus(table, column, "present", str(schema[column])))
        return report

    def _require(self, con: ibis.BaseBackend, logical: list[str]) -> None:
        problems = [s for s in self.check(con, logical) if not s.ok]
        if problems:
            lines = [
                f"{s.table}{'.' + s.column if s.column else ''}: {s.status}"
                + (f" ({s.detail})" if s.detail else "")
                for s in problems
            ]
            raise DataSourceError(
                f"backend {self.config.name!r} ({self.config.mapping} mapping) lacks what this "
                "dataset needs:\n  - " + "\n  - ".join(lines)
            )

    def run(
        self,
        dataset: qm.Dataset,
        batch_size: int = DEFAULT_BATCH_SIZE,
        *,
        project: str | None = None,
    ) -> tuple[ibis.BaseBackend, pa.RecordBatchReader]:
        """Check, then run: the connection is returned so the caller can close it when done.

        Permissions are checked first (a restricted table ``project`` is not granted is
        refused, whether or not this backend holds it), then the tables provided."""
        self.refuse_unpermitted(dataset, project)
        logical = self.refuse_unprovided(dataset)
        con = self.connect(logical)
        try:
            self._require(con, logical)
            mapping = self.mapping
            reader = run_dataset(
                dataset, con, batch_size, load_table=lambda t: mapping.load(con, t.name)
            )
        except BaseException:
            con.disconnect()
            raise
        return con, reader

    def sql(self, dataset: qm.Dataset) -> str:
        """The SQL this backend would run, over its physical tables, without connecting."""
        logical = self.refuse_unprovided(dataset)
        requirements = self.requirements(logical)
        unbound = {
            name: ibis.table({c: _KIND_TYPES[k] for c, k in columns.items()}, name=name)
            for name, columns in requirements.items()
        }
        mapping = self.mapping
        return sql_for(
            dataset, self.dialect, load_table=lambda t: mapping.load(_Unbound(unbound), t.name)
        )


def _table_of(frame: object) -> str | None:
    """The table a column is selected from (through filters, sorts and picks)."""
    if isinstance(frame, qm.SelectPatientTable):
        return frame.name
    if isinstance(frame, qm.PickOneRowPerPatient):
        frame = frame.source
    root = getattr(frame, "root", None)
    return root.name if isinstance(root, qm.SelectTable) else None


class _Unbound:
    """Stands in for a connection when only the SQL is wanted: tables with known schemas."""

    def __init__(self, tables: dict[str, ibis.Table]) -> None:
        self._tables = tables

    def table(self, name: str) -> ibis.Table:
        return self._tables[name]
