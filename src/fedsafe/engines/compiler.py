"""Compile a query model into one Ibis expression.

The shape of the query:

* the *universe* is every patient in the tables the population reads;
* each patient-level *source* (a patient table, a picked row, an aggregate) becomes a table with
  one row per patient, left-joined onto the universe;
* row-level work happens on one many-rows table at a time, with the patient-level values it
  needs joined on, and frames' filters as a row's *presence* condition.

Where SQL engines disagree (date arithmetic, integer division, GREATEST with NULLs, casts) the
expression is built from primitives that behave the same everywhere, so every engine Ibis
supports computes ehrQL's documented answer.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from fedsafe.engines.dialects import sqlite_add_months, truncating_divide
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.types import is_code_type

# Above this many values, ``is_in`` reads a table of values instead of an inline IN list, so a
# codelist of 10,000 codes does not become 10,000 SQL literals.
INLINE_VALUES_LIMIT = 50

# Engines where a large codelist is answered by joining a table of codes with a flag per codelist
# (see Compiler._join_codelist_flags), measured faster than an IN-subquery per codelist on the
# benchmark's cohort (DuckDB ~8% less CPU at 1M patients, SQLite ~35% less at 20,000).
# PostgreSQL plans the join badly without statistics on the temporary codes table (a merge join
# that sorts the whole events table: 2.5x slower), so it and the others keep IN (SELECT ...).
CODELIST_JOIN_DIALECTS = frozenset({"duckdb", "sqlite"})

# Engines where a picked row of which a definition reads only the primary sort key
# (``sort_by(e.date).first_for_patient().date``, the commonest pick) is a MIN/MAX in the group's
# one aggregate pass instead of a ROW_NUMBER window (see Compiler._pick_by_extreme). Measured on
# DuckDB: ~9% less CPU for the benchmark's cohort at 1M patients (4 of its 6 picks). A MIN/MAX of
# a struct of every key and picked column, which would replace the other picks too, was measured
# slower than the window on DuckDB 1.5, so those keep ROW_NUMBER.
EXTREME_PICK_DIALECTS = frozenset({"duckdb"})

PATIENT_ID = "patient_id"

# The columns of a measures query's interval table (see ``fedsafe.engines.measures``): a row of a
# query that reads ``INTERVAL`` is one patient in one interval, keyed by both.
INTERVAL_ID = "__interval__"
INTERVAL_START = "__interval_start__"
INTERVAL_END = "__interval_end__"


def ibis_type(type_: type) -> str:
    if type_ is bool:
        return "boolean"
    if type_ is int:
        return "int64"
    if type_ is float:
        return "float64"
    if type_ is datetime.date:
        return "date"
    if type_ is str or is_code_type(type_):
        return "string"
    raise TypeError(f"no database type for {type_!r}")


def arrow_type(type_: type) -> pa.DataType:
    return {
        "boolean": pa.bool_(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "date": pa.date32(),
        "string": pa.string(),
    }[ibis_type(type_)]


def literal(value: Any) -> ir.Value:
    type_ = type(value)
    if is_code_type(type_):
        return ibis.literal(value.value, type="string")
    return ibis.literal(value, type=ibis_type(type_))


def null(type_: type) -> ir.Value:
    return ibis.null(ibis_type(type_))


TableLoader = Callable[[qm.SelectTable | qm.SelectPatientTable], ir.Table]


@dataclass
class _Joined:
    """A table with patient-level sources joined on, and where each source's columns went."""

    table: ir.Table
    columns: dict[tuple[qm.Node, str], str]


# A group of patient-level sources computed together in one pass over one many-rows table:
# the table, the patient-level sources their row-level expressions need joined on first, and
# whether they read ``INTERVAL`` (then the pass is over the table's rows in every interval).
GroupKey = tuple[qm.SelectTable, frozenset[qm.Node], bool]

EXISTS = "__exists__"
VALUE = "value"


class Compiler:
    """Turns query-model nodes into Ibis expressions over the tables ``load_table`` returns.

    One compiler serves one query. Every aggregate and every picked row over the same table
    (with the same patient-level inputs) is computed in a single grouped pass, with each one's
    filters as a ``FILTER (WHERE ...)`` on its aggregate: a definition with twenty variables
    over clinical_events reads clinical_events once, not twenty times.
    """

    def __init__(
        self,
        load_table: TableLoader,
        intervals: ir.Table | None = None,
        *,
        dialect: str | None = None,
    ) -> None:
        self._load_table = load_table
        # For measures: one row per interval (INTERVAL_ID, INTERVAL_START, INTERVAL_END).
        self._intervals = intervals
        self._reads_interval: dict[qm.Node, bool] = {}
        # Only SQLite needs to be told apart (see dialects.sqlite_add_months).
        self._dialect = dialect
        self._group_tables: dict[GroupKey, ir.Table] = {}
        self._group_columns: dict[tuple[qm.Node, str], str] = {}
        self._group_members: dict[GroupKey, list[qm.Node]] = {}
        self._group_deps: dict[GroupKey, list[qm.Node]] = {}
        self._group_of: dict[qm.Node, GroupKey] = {}
        self._pick_columns: dict[qm.Node, set[str]] = {}
        # The columns read of each one-row-per-patient table: only those are selected, so a
        # schema column a backend does not provide (e.g. tpp ons_deaths.place on an OMOP
        # backend) is never asked for unless the definition reads it.
        self._patient_columns: dict[qm.Node, set[str]] = {}
        self._value_tables: dict[qm.ValueSet, ir.Table] = {}
        # Codelist membership answered by a flags table joined onto a group's rows: the IN
        # node's flag column (present only in the tables of groups that joined it).
        self._flag_columns: dict[qm.Function, str] = {}
        self._inline_tables: dict[qm.InlinePatientTable, ir.Table] = {}
        self._counter = 0

    def _name(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    # ---------------------------------------------------------------------------------------
    # The dataset

    def dataset(self, dataset: qm.Dataset) -> ir.Table:
        self.plan(dataset)
        universe = self.universe(dataset.population)
        series = [dataset.population] + [s for _, s in dataset.variables]
        joined = self.join_sources(universe, series)
        population = self.expr(dataset.population, joined, None)
        table = joined.table.filter(population.fill_null(False))
        joined = _Joined(table, joined.columns)
        selections = {PATIENT_ID: table[PATIENT_ID]}
        for name, variable in dataset.variables:
            selections[name] = self.expr(variable, joined, None).cast(ibis_type(variable.type))
        return table.select(**selections).order_by(PATIENT_ID)

    def universe(self, population: qm.Series) -> ir.Table:
        tables = sorted(qm.tables_used(population).values(), key=lambda t: t.name)
        inline = [n for n in qm.walk(population) if isinstance(n, qm.InlinePatientTable)]
        if not tables and not inline:
            raise qm.QueryModelError(
                "The population does not read any table, so there are no patients to choose "
                "from: base it on a table, e.g. practice_registrations"
            )
        ids = [self._load_table(t).select(PATIENT_ID) for t in tables]
        ids += [self._patient_table(t).select(PATIENT_ID) for t in inline]
        if len(ids) == 1:
            return ids[0].distinct()
        return ibis.union(*ids, distinct=True)

    # ---------------------------------------------------------------------------------------
    # Planning: which sources are computed together

    def plan(self, query: qm.Node) -> None:
        """Decide which sources of ``query`` are computed together; call once, first."""
        sources: list[qm.Node] = []
        for node in qm.walk(query):
            if isinstance(node, qm.SelectColumn) and isinstance(
                node.source, qm.PickOneRowPerPatient
            ):
                self._pick_columns.setdefault(node.source, set()).add(node.name)
            if isinstance(node, qm.SelectColumn) and isinstance(
                node.source, qm.SelectPatientTable | qm.InlinePatientTable
            ):
                self._patient_columns.setdefault(node.source, set()).add(node.name)
            if isinstance(node, qm.PickOneRowPerPatient) or (
                isinstance(node, qm.Aggregate) and not _is_patient_exists(node)
            ):
                sources.append(node)
        for source in sources:
            deps = self._deps(source)
            key = (_member_frame(source).root, frozenset(deps), self.reads_interval(source))
            self._group_of[source] = key
            self._group_members.setdefault(key, []).append(source)
            self._group_deps.setdefault(key, deps)

    def reads_interval(self, node: qm.Node) -> bool:
        """Whether ``node`` has a value per interval, not just per patient."""
        if node not in self._reads_interval:
            self._reads_interval[node] = qm.uses_interval(node)
        return self._reads_interval[node]

    def _in_every_interval(self, table: ir.Table) -> ir.Table:
        """Each row of ``table`` once per interval, with the interval's id and dates."""
        if self._intervals is None:
            raise qm.QueryModelError("INTERVAL can only be used in measures")
        return table.cross_join(self._intervals)

    def _deps(self, source: qm.Node) -> list[qm.Node]:
        """Patient-level sources a source's row-level expressions read, in first-seen order."""
        frame = _member_frame(source)
        deps: list[qm.Node] = []
        for expression in [*qm.frame_filters(frame), *_member_values(source)]:
            for dep in self._sources_in(expression, frame.root):
                if dep not in deps:
                    deps.append(dep)
        return deps

    # ---------------------------------------------------------------------------------------
    # Patient-level sources

    def _sources_in(self, series: qm.Node, root: qm.SelectTable | None) -> Iterator[qm.Node]:
        """Patient-level sources an expression reads, not looking inside the sources."""
        stack = [series]
        seen: set[qm.Node] = set()
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            if isinstance(node, qm.Aggregate):
                yield node.source if _is_patient_exists(node) else node
            elif isinstance(node, qm.CountEpisodes):
                yield node
            elif isinstance(node, qm.SelectColumn):
                if isinstance(node.source, qm.OneRowPerPatientFrame):
                    yield node.source
                elif root is not None:
                    # Row-level column: its frame's filters are part of the expression's rows.
                    stack.extend(qm.frame_filters(node.source))
            elif isinstance(node, qm.Function | qm.Case):
                stack.extend(node.children())

    def join_sources(
        self, base: ir.Table, series: list[qm.Node], root: qm.SelectTable | None = None
    ) -> _Joined:
        """``base`` (keyed by patient, or patient and interval) with the patient-level sources
        these series read joined on; ``expr`` then evaluates the series over the result."""
        sources: list[qm.Node] = []
        for s in series:
            for source in self._sources_in(s, root):
                if source not in sources:
                    sources.append(source)
        return self._join_units(base, sources)

    def _join_units(self, base: ir.Table, sources: list[qm.Node]) -> _Joined:
        """Left-join onto ``base`` the tables holding these sources, each table once."""
        units: list[Any] = []
        for source in sources:
            unit = self._group_of.get(source, source)
            if unit not in units:
                units.append(unit)
        columns: dict[tuple[qm.Node, str], str] = {}
        table = base
        for unit in units:
            per_interval = False
            if isinstance(unit, qm.SelectPatientTable | qm.InlinePatientTable):
                used = self._patient_columns.get(unit, set())
                read = [c for c in unit.schema.column_names if c in used]
                unit_table = self._patient_table(unit).select(
                    PATIENT_ID, *read, **{EXISTS: ibis.literal(True)}
                )
                unit_columns = {(unit, c): c for c in (*read, EXISTS)}
            elif isinstance(unit, qm.CountEpisodes):
                unit_table = self._episodes_table(unit)
                unit_columns = {(unit, VALUE): VALUE}
                per_interval = self.reads_interval(unit)
            else:
                unit_table = self._group_table(unit)
                per_interval = unit[2]
                unit_columns = {
                    k: v for k, v in self._group_columns.items() if self._group_of[k[0]] == unit
                }
            prefix = self._name("s")
            renamed = unit_table.rename({f"{prefix}_{c}": c for c in unit_table.columns})
            on = [table[PATIENT_ID] == renamed[f"{prefix}_{PATIENT_ID}"]]
            if per_interval:
                on.append(table[INTERVAL_ID] == renamed[f"{prefix}_{INTERVAL_ID}"])
            table = table.left_join(renamed, on)
            for (source, column), name in unit_columns.items():
                columns[(source, column)] = f"{prefix}_{name}"
        return _Joined(table, columns)

    def _patient_table(self, table: qm.SelectPatientTable | qm.InlinePatientTable) -> ir.Table:
        if isinstance(table, qm.SelectPatientTable):
            return self._load_table(table)
        if table not in self._inline_tables:
            names = [PATIENT_ID, *table.schema.column_names]
            types = [pa.int64()] + [arrow_type(c.type) for c in table.schema.columns]
            columns = {
                name: pa.array([_raw(row[i]) for row in table.rows], type=type_)
                for i, (name, type_) in enumerate(zip(names, types, strict=True))
            }
            self._inline_tables[table] = ibis.memtable(pa.table(columns))
        return self._inline_tables[table]

    def _group_table(self, key: GroupKey) -> ir.Table:
        """One pass over a table computing every source in the group, one row per patient."""
        if key in self._group_tables:
            return self._group_tables[key]
        root, deps, per_interval = key
        members = self._group_members[key]
        # Each distinct filter condition is computed once per row, as a column; a member's
        # presence is the AND of its conditions' columns.
        member_filters = {m: qm.frame_filters(_member_frame(m)) for m in members}
        distinct_filters = list(dict.fromkeys(member_filters.values()))
        conditions: list[qm.Series] = []
        for filters in member_filters.values():
            conditions += [c for c in filters if c not in conditions]
        condition_columns = {c: f"__c{i}" for i, c in enumerate(conditions)}
        # Rows no member wants cannot change any aggregate: drop them before grouping (only
        # possible when every member filters).
        can_drop = bool(conditions) and all(member_filters.values())

        base = self._join_codelist_flags(
            self._load_table(root), root, conditions, distinct_filters if can_drop else None
        )
        early_deps = list(self._group_deps[key])
        late_deps: list[qm.Node] = []
        done: list[qm.Series] = []
        if per_interval:
            # Conditions that don't read INTERVAL are computed, and rows nobody could want
            # dropped, before each row is repeated once per interval.
            late_deps = [d for d in early_deps if self._unit_reads_interval(d)]
            early_deps = [d for d in early_deps if d not in late_deps]
            early = self._join_units(base, early_deps) if early_deps else _Joined(base, {})
            done = [c for c in conditions if not self.reads_interval(c)]
            table = self._add_conditions(early, done, condition_columns, root)
            if can_drop and done:
                wanted = [
                    _all_of(table, tuple(c for c in f if c in done), condition_columns)
                    for f in distinct_filters
                ]
                if all(w is not None for w in wanted):
                    table = table.filter(_any_of(wanted))
            table = self._in_every_interval(table)
            late = self._join_units(table, late_deps) if late_deps else _Joined(table, {})
            joined = _Joined(late.table, {**early.columns, **late.columns})
        else:
            joined = self._join_units(base, early_deps) if deps else _Joined(base, {})
        remaining = [c for c in conditions if c not in done]
        table = self._add_conditions(joined, remaining, condition_columns, root)
        if can_drop and remaining:
            wanted = [_all_of(table, f, condition_columns) for f in distinct_filters]
            table = table.filter(_any_of(wanted))
        rows = _Joined(table, joined.columns)
        windowed = {m for m in members if self._pick_form(m) == "window"}
        ranks = {
            f"__r{index}": self._rank(
                member,
                rows,
                root,
                _all_of(rows.table, member_filters[member], condition_columns),
                per_interval,
            )
            for index, member in enumerate(members)
            if member in windowed
        }
        if ranks:
            rows = _Joined(rows.table.mutate(**ranks), joined.columns)
        aggregates: dict[str, ir.Scalar] = {}
        for index, member in enumerate(members):
            where = _all_of(rows.table, member_filters[member], condition_columns)
            if member in windowed:
                chosen = rows.table[f"__r{index}"] == 0
                where = chosen if where is None else where & chosen
            for column, value in self._member_aggregates(member, rows, root, where).items():
                name = f"m{index}_{column}"
                aggregates[name] = value
                self._group_columns[(member, column)] = name
        keys = [PATIENT_ID, INTERVAL_ID] if per_interval else [PATIENT_ID]
        table = rows.table.group_by(*(rows.table[k] for k in keys)).aggregate(**aggregates)
        self._group_tables[key] = table
        return table

    def _join_codelist_flags(
        self,
        base: ir.Table,
        root: qm.SelectTable,
        conditions: list[qm.Series],
        required: list[tuple[qm.Series, ...]] | None,
    ) -> ir.Table:
        """``base`` with a flag column for each large codelist its conditions test a column
        against, from one join per column with a table of (code, one flag per codelist).

        A definition tests the same column against several codelists (diabetes, asthma, ...);
        as ``IN (SELECT ...)`` each is a semi-join probed by every row of the table. One hash
        join against the union of the codelists answers them all at once, and when every
        filter of the group (``required``, None when some member keeps every row) needs one of
        these codelists, the join is an inner join: rows with no code of interest are dropped
        before anything else is computed on them, as a hand-written query would.
        """
        if self._dialect not in CODELIST_JOIN_DIALECTS:
            return base
        tests: dict[str, list[qm.Function]] = {}
        for condition in conditions:
            for node in qm.walk(condition):
                # A condition may compare with another table's aggregate (a date from
                # clinical_events filtering apcs): only tests of this table's own rows join here.
                if _is_codelist_test(node) and node.args[0].source.root == root:  # type: ignore[attr-defined]
                    column = node.args[0].name  # type: ignore[attr-defined]
                    if node not in tests.setdefault(column, []):
                        tests[column].append(node)
        for column, nodes in tests.items():
            # ValueSets hash all their values: look each one up once, then work by position.
            value_sets = list(dict.fromkeys(n.args[1] for n in nodes))
            flags = [self._name("__cl") for _ in value_sets]
            key = self._name("__cl_code")
            members = [{_raw(x) for x in v.values} for v in value_sets]  # type: ignore[attr-defined]
            codes = sorted(set().union(*members))
            columns = {key: pa.array(codes, arrow_type(value_sets[0].type))}  # type: ignore[attr-defined]
            for flag, member in zip(flags, members, strict=True):
                columns[flag] = pa.array([code in member for code in codes], pa.bool_())
            table = ibis.memtable(pa.table(columns))
            inner = required is not None and all(
                any(c in nodes for c in filters) for filters in required
            )
            joined = base.join(table, base[column] == table[key], how="inner" if inner else "left")
            base = joined.select(*(joined[c] for c in base.columns), *(joined[f] for f in flags))
            flag_of = dict(zip(value_sets, flags, strict=True))
            for node in nodes:
                self._flag_columns[node] = flag_of[node.args[1]]
        return base

    def _add_conditions(
        self,
        joined: _Joined,
        conditions: list[qm.Series],
        columns: dict[qm.Series, str],
        root: qm.SelectTable,
    ) -> ir.Table:
        """``joined``'s table with a boolean column (NULL as False) for each condition."""
        if not conditions:
            return joined.table
        return joined.table.mutate(
            **{columns[c]: self.expr(c, joined, root).fill_null(False) for c in conditions}
        )

    def _unit_reads_interval(self, source: qm.Node) -> bool:
        """Whether the table holding ``source`` has a row per patient and interval."""
        unit = self._group_of.get(source)
        if unit is not None:
            return unit[2]
        return self.reads_interval(source)

    def _episodes_table(self, source: qm.CountEpisodes) -> ir.Table:
        """Episodes need each date's predecessor, so they get a windowed pass of their own."""
        frame = _member_frame(source)
        root = frame.root
        filters = qm.frame_filters(frame)
        base = self._load_table(root)
        per_interval = self.reads_interval(source)
        if per_interval:
            base = self._in_every_interval(base)
        keys = [PATIENT_ID, INTERVAL_ID] if per_interval else [PATIENT_ID]
        joined = self._join_units(base, self._deps(source))
        rows = joined.table
        conditions = [self.expr(c, joined, root).fill_null(False) for c in filters]
        date = self.expr(source.source, joined, root)
        rows = (
            rows.filter(*conditions, date.notnull()) if conditions else rows.filter(date.notnull())
        )
        dates = rows.select(*keys, __date__=date).distinct()
        previous = (
            dates["__date__"]
            .lag()
            .over(group_by=[dates[k] for k in keys], order_by=dates["__date__"])
        )
        starts = dates.mutate(
            __starts__=ibis.ifelse(
                previous.isnull()
                | (dates["__date__"].delta(previous, unit="day") > source.maximum_gap_days),
                1,
                0,
            )
        )
        return starts.group_by(*keys).aggregate(
            **{VALUE: starts["__starts__"].sum().cast("!int64")}
        )

    def _member_aggregates(
        self, member: qm.Node, rows: _Joined, root: qm.SelectTable, where: Any
    ) -> dict[str, ir.Scalar]:
        table = rows.table
        if isinstance(member, qm.PickOneRowPerPatient):
            if self._pick_form(member) == "extreme":
                return self._pick_by_extreme(member, rows, where)
            return self._pick(member, rows, where)
        assert isinstance(member, qm.Aggregate)
        if isinstance(member.source, qm.ManyRowsFrame):
            count = table.count(where=where)
            return {VALUE: count > 0 if member.op is qm.AggOp.EXISTS else count}
        value = self.expr(member.source, rows, root)
        aggregate = {
            qm.AggOp.COUNT_DISTINCT: lambda: value.nunique(where=where),
            qm.AggOp.MIN: lambda: value.min(where=where),
            qm.AggOp.MAX: lambda: value.max(where=where),
            # DuckDB sums BIGINTs into HUGEINT; Ibis believes the result is int64 and drops a
            # plain cast, so cast to non-nullable int64, which Ibis keeps.
            qm.AggOp.SUM: lambda: (
                value.sum(where=where).cast("!int64")
                if value.type().is_integer()
                else value.sum(where=where)
            ),
            qm.AggOp.MEAN: lambda: value.cast("float64").mean(where=where),
        }[member.op]()
        return {VALUE: aggregate}

    def _rank(
        self,
        member: qm.PickOneRowPerPatient,
        rows: _Joined,
        root: qm.SelectTable,
        where: Any,
        per_interval: bool = False,
    ) -> ir.Value:
        """Each row's place in its patient's sorted rows (0 is the one picked).

        A window's ROW_NUMBER is the one ordering primitive every engine has (SQLite and
        PostgreSQL have no ordered ``first`` aggregate). Rows a filter drops are numbered in a
        partition of their own, so the first wanted row is always number 0.
        """
        frame = member.source
        first = member.position is qm.Position.FIRST
        keys = [self.expr(k, rows, root) for k in qm.frame_sorts(frame)]
        # Ties on the sort keys are broken by the columns used from the row, so every engine
        # gives the same values and reruns agree.
        keys += [rows.table[c] for c in sorted(self._pick_columns.get(member, set()))]
        order = [
            ibis.asc(k, nulls_first=True) if first else ibis.desc(k, nulls_first=False)
            for k in keys
        ]
        # Measures pick a row per patient *and interval* when the frame reads INTERVAL.
        partition = [rows.table[PATIENT_ID]]
        if per_interval:
            partition.append(rows.table[INTERVAL_ID])
        if where is not None:
            partition.append(where)
        return ibis.row_number().over(group_by=partition, order_by=order or None)

    def _pick(self, member: qm.PickOneRowPerPatient, rows: _Joined, where: Any) -> dict:
        """The picked row's columns: the one row ranked 0 (MAX of one value is that value)."""
        picked: dict[str, ir.Scalar] = {EXISTS: rows.table.count(where=where) > 0}
        for column in sorted(self._pick_columns.get(member, set())):
            picked[column] = rows.table[column].max(where=where)
        return picked

    def _pick_form(self, member: qm.Node) -> str | None:
        """How a picked row is computed: "extreme" or "window" (None: not a pick)."""
        if not isinstance(member, qm.PickOneRowPerPatient):
            return None
        primary = qm.frame_sorts(member.source)[0]
        if (
            self._dialect in EXTREME_PICK_DIALECTS
            and isinstance(primary, qm.SelectColumn)
            and isinstance(primary.source, qm.ManyRowsFrame)
            and self._pick_columns.get(member, set()) <= {primary.name}
        ):
            return "extreme"
        return "window"

    def _pick_by_extreme(self, member: qm.PickOneRowPerPatient, rows: _Joined, where: Any) -> dict:
        """The picked row's value of its primary sort key, when that is all a definition reads.

        The first row's primary key is the smallest, NULL below every value (so NULL if any
        wanted row's is); the last row's is the largest, NULL only if every one is.
        """
        table = rows.table
        picked: dict[str, ir.Scalar] = {EXISTS: table.count(where=where) > 0}
        for column in self._pick_columns.get(member, set()):
            value = table[column]
            if member.position is qm.Position.FIRST:
                is_null = value.isnull() if where is None else where & value.isnull()
                picked[column] = ibis.ifelse(
                    table.count(where=is_null) > 0, ibis.null(value.type()), value.min(where=where)
                )
            else:
                picked[column] = value.max(where=where)
        return picked

    # ---------------------------------------------------------------------------------------
    # Expressions

    def expr(self, node: qm.Node, joined: _Joined, root: qm.SelectTable | None) -> ir.Value:
        method = getattr(self, f"_expr_{type(node).__name__}")
        return method(node, joined, root)

    def _expr_Value(self, node: qm.Value, joined: _Joined, root: Any) -> ir.Value:
        return literal(node.value)

    def _expr_SelectColumn(self, node: qm.SelectColumn, joined: _Joined, root: Any) -> ir.Value:
        if isinstance(node.source, qm.ManyRowsFrame):
            return joined.table[node.name]
        return joined.table[joined.columns[(node.source, node.name)]]

    def _expr_Aggregate(self, node: qm.Aggregate, joined: _Joined, root: Any) -> ir.Value:
        if _is_patient_exists(node):
            return joined.table[joined.columns[(node.source, EXISTS)]].fill_null(False)
        value = joined.table[joined.columns[(node, VALUE)]]
        if node.op is qm.AggOp.EXISTS:
            return value.fill_null(False)
        if node.op in (qm.AggOp.COUNT, qm.AggOp.COUNT_DISTINCT):
            return value.fill_null(0)
        return value

    def _expr_IntervalDate(self, node: qm.IntervalDate, joined: _Joined, root: Any) -> ir.Value:
        column = INTERVAL_START if node.bound is qm.IntervalBound.START else INTERVAL_END
        return joined.table[column]

    def _expr_CountEpisodes(self, node: qm.CountEpisodes, joined: _Joined, root: Any) -> ir.Value:
        return joined.table[joined.columns[(node, VALUE)]].fill_null(0).cast("int64")

    def _expr_Case(self, node: qm.Case, joined: _Joined, root: Any) -> ir.Value:
        type_ = ibis_type(node.type)
        branches = []
        for condition, value in node.cases:
            then = null(node.type) if value is None else self.expr(value, joined, root)
            branches.append((self.expr(condition, joined, root).fill_null(False), then.cast(type_)))
        default = null(node.type) if node.default is None else self.expr(node.default, joined, root)
        return ibis.cases(*branches, else_=default.cast(type_))

    def _expr_Function(self, node: qm.Function, joined: _Joined, root: Any) -> ir.Value:
        if node.op is qm.Op.IN:
            value = self.expr(node.args[0], joined, root)
            flag = self._flag_columns.get(node)
            if flag is not None and flag in joined.table.columns:
                # NULL IN (...) is NULL; otherwise the joined flag (no match: not in the list).
                found = joined.table[flag].fill_null(False)
                return ibis.cases((value.isnull(), ibis.null("boolean")), else_=found)
            return self._is_in(value, node.args[1])
        args = [self.expr(a, joined, root) for a in node.args]
        if self._dialect == "sqlite" and node.op in SQLITE_FUNCTIONS:
            return SQLITE_FUNCTIONS[node.op](*args)
        return FUNCTIONS[node.op](*args)

    def _is_in(self, value: ir.Value, values: qm.ValueSet) -> ir.Value:
        raw = [_raw(v) for v in values.values]
        if not raw:
            # A column expression (not a bare literal) so it can be aggregated like any other.
            return value.isnull() & ibis.literal(False)
        if values.type is bool:
            # Ibis renders (a < b).isin([...]) without parentheses; equality needs none.
            result = value == ibis.literal(raw[0])
            for other in raw[1:]:
                result = result | (value == ibis.literal(other))
            return result
        if len(raw) <= INLINE_VALUES_LIMIT:
            return value.isin(raw)
        if values not in self._value_tables:
            column = pa.array(raw, type=arrow_type(values.type))
            self._value_tables[values] = ibis.memtable(pa.table({"value": column}))
        # NULL IN (SELECT ...) is NULL in SQL, but Spark answers it with an existence join that
        # gives False: say NULL for a NULL value explicitly, as every engine then agrees.
        found = value.isin(self._value_tables[values]["value"])
        return ibis.cases((value.isnull(), ibis.null("boolean")), else_=found)


def _raw(value: Any) -> Any:
    return value.value if is_code_type(type(value)) else value


def _is_codelist_test(node: qm.Node) -> bool:
    """``column.is_in(codelist)`` on a row-level column, with a list too long to write inline."""
    return (
        isinstance(node, qm.Function)
        and node.op is qm.Op.IN
        and isinstance(node.args[0], qm.SelectColumn)
        and isinstance(node.args[0].source, qm.ManyRowsFrame)
        and isinstance(node.args[1], qm.ValueSet)
        and node.args[1].type is not bool
        and len(node.args[1].values) > INLINE_VALUES_LIMIT
    )


def _member_frame(member: qm.Node) -> qm.ManyRowsFrame:
    """The frame whose rows a patient-level source reads: its filters decide which rows."""
    if isinstance(member, qm.PickOneRowPerPatient):
        return member.source
    if isinstance(member, qm.Aggregate) and isinstance(member.source, qm.ManyRowsFrame):
        return member.source
    assert isinstance(member, qm.Aggregate | qm.CountEpisodes)
    return qm.frame_for_series(member.source)  # type: ignore[arg-type]


def _member_values(member: qm.Node) -> list[qm.Node]:
    """The row-level expressions a source evaluates besides its filters."""
    if isinstance(member, qm.PickOneRowPerPatient):
        return list(qm.frame_sorts(member.source))
    if isinstance(member, qm.Aggregate) and isinstance(member.source, qm.ManyRowsFrame):
        return []
    return [member.source]  # type: ignore[attr-defined]


def _all_of(table: ir.Table, filters: tuple[qm.Series, ...], columns: dict[Any, str]) -> Any:
    """AND of the condition columns for ``filters``; None (every row) if there are none."""
    result = None
    for condition in filters:
        column = table[columns[condition]]
        result = column if result is None else result & column
    return result


def _any_of(conditions: list[Any]) -> Any:
    result = conditions[0]
    for condition in conditions[1:]:
        result = result | condition
    return result


def _is_patient_exists(node: qm.Aggregate) -> bool:
    return node.op is qm.AggOp.EXISTS and isinstance(node.source, qm.OneRowPerPatientFrame)


# ---------------------------------------------------------------------------------------------
# Operations built from primitives every engine agrees on


def _floordiv(a: ir.NumericValue, b: ir.NumericValue) -> ir.Value:
    if a.type().is_integer() and b.type().is_integer():
        # Exact for 64-bit values: truncate, then step down one where the remainder's sign
        # differs from the divisor's (SQL's % keeps the dividend's sign on every engine).
        divisor = b.nullif(0)
        quotient = truncating_divide(a, divisor)
        remainder = a % divisor
        adjust = ibis.ifelse((remainder != 0) & ((remainder < 0) != (divisor < 0)), 1, 0)
        return (quotient - adjust).cast("int64")
    quotient = a.cast("float64") / b.nullif(0).cast("float64")
    return quotient.floor().cast("int64")


def _truediv(a: ir.NumericValue, b: ir.NumericValue) -> ir.Value:
    return a.cast("float64") / b.nullif(0).cast("float64")


def _not(a: ir.BooleanValue) -> ir.Value:
    # Ibis 12 prints ``(~a).isnull()`` as ``NOT a IS NULL``, which SQL reads as
    # ``NOT (a IS NULL)``. A CASE cannot be misread whatever surrounds it.
    return ibis.ifelse(a, False, ibis.ifelse(a.isnull(), ibis.null("boolean"), True))


# |x| beyond 10**308 overflows a float64; below 10**-307 it underflows. PostgreSQL raises an
# error for either, others give inf or 0, so results past these are decided before computing.
_LOG10_FLOAT_MAX = 308.25
_LOG10_FLOAT_MIN = -307.0


def _power(a: ir.NumericValue, b: ir.NumericValue) -> ir.Value:
    base, exponent = a.cast("float64"), b.cast("float64")
    undefined = ((base < 0) & (exponent != exponent.floor())) | ((base == 0) & (exponent < 0))
    # The result's size, from logarithms: every engine has LOG10, not every one has IS_INF.
    magnitude = ibis.ifelse(base == 0, 1.0, base.abs()).log10() * exponent
    overflow = (base != 0) & (magnitude > _LOG10_FLOAT_MAX)
    underflow = (base != 0) & (magnitude < _LOG10_FLOAT_MIN)
    safe = undefined | overflow | underflow
    result = ibis.ifelse(safe, 1.0, base).pow(ibis.ifelse(safe, 1.0, exponent))
    return ibis.cases((undefined | overflow, ibis.null("float64")), (underflow, 0.0), else_=result)


def _cast_to_int(a: ir.Value) -> ir.Value:
    if a.type().is_boolean():
        return ibis.cases((a, 1), (~a, 0), else_=ibis.null("int64")).cast("int64")
    if a.type().is_floating():
        return ibis.ifelse(a >= 0, a.floor(), a.ceil()).cast("int64")
    return a.cast("int64")


def _in_range(date: ir.DateValue) -> ir.Value:
    """NULL for dates outside years 1-9999, which not every engine (nor Python) can hold."""
    year = date.year()
    return ibis.ifelse((year >= 1) & (year <= 9999), date, ibis.null("date"))


def _add_days(date: ir.DateValue, n: ir.IntegerValue) -> ir.Value:
    return (date + n.cast("int64").as_interval("D")).cast("date")


def _add_months(date: ir.DateValue, n: ir.IntegerValue) -> ir.Value:
    # Built from year/month arithmetic and day offsets, which every engine agrees on. A day the
    # target month lacks rolls up to the 1st of the following month (ehrQL's "round up" rule:
    # 31 Jan + 1 month is 1 March).
    index = date.year().cast("int64") * 12 + (date.month().cast("int64") - 1) + n.cast("int64")
    year = (index.cast("float64") / 12).floor().cast("int64")
    month = index - year * 12 + 1
    first = ibis.date(year, month, ibis.literal(1))
    candidate = _add_days(first, date.day().cast("int64") - 1)
    next_index = index + 1
    next_year = (next_index.cast("float64") / 12).floor().cast("int64")
    first_of_next = ibis.date(next_year, next_index - next_year * 12 + 1, ibis.literal(1))
    return ibis.ifelse(candidate.month().cast("int64") == month, candidate, first_of_next)


def _month_day(date: ir.DateValue) -> ir.Value:
    return date.month().cast("int64") * 100 + date.day().cast("int64")


def _diff_months(end: ir.DateValue, start: ir.DateValue) -> ir.Value:
    months = (end.year().cast("int64") - start.year().cast("int64")) * 12 + (
        end.month().cast("int64") - start.month().cast("int64")
    )
    return months - ibis.ifelse(end.day() < start.day(), 1, 0)


def _diff_years(end: ir.DateValue, start: ir.DateValue) -> ir.Value:
    years = end.year().cast("int64") - start.year().cast("int64")
    return years - ibis.ifelse(_month_day(end) < _month_day(start), 1, 0)


def _extreme(pick: Callable[..., ir.Value]) -> Callable[..., ir.Value]:
    # GREATEST/LEAST treat NULL differently across engines; replacing each NULL by another
    # argument first makes "ignore NULLs, NULL only if all are NULL" hold everywhere.
    def apply(*args: ir.Value) -> ir.Value:
        filled = [ibis.coalesce(a, *(b for b in args if b is not a)) for a in args]
        return pick(*filled)

    return apply


FUNCTIONS: dict[qm.Op, Callable[..., ir.Value]] = {
    qm.Op.EQ: lambda a, b: a == b,
    qm.Op.NE: lambda a, b: a != b,
    qm.Op.LT: lambda a, b: a < b,
    qm.Op.LE: lambda a, b: a <= b,
    qm.Op.GT: lambda a, b: a > b,
    qm.Op.GE: lambda a, b: a >= b,
    qm.Op.AND: lambda a, b: a & b,
    qm.Op.OR: lambda a, b: a | b,
    qm.Op.NOT: _not,
    qm.Op.IS_NULL: lambda a: a.isnull(),
    qm.Op.COALESCE: lambda a, b: ibis.coalesce(a, b),
    qm.Op.ADD: lambda a, b: a + b,
    qm.Op.SUB: lambda a, b: a - b,
    qm.Op.MUL: lambda a, b: a * b,
    qm.Op.TRUEDIV: _truediv,
    qm.Op.FLOORDIV: _floordiv,
    qm.Op.NEG: lambda a: -a,
    qm.Op.ABS: lambda a: a.abs(),
    qm.Op.POW: _power,
    qm.Op.CAST_TO_INT: _cast_to_int,
    # PostgreSQL cannot cast a boolean to a float directly: go through the integer 0 or 1.
    qm.Op.CAST_TO_FLOAT: lambda a: (_cast_to_int(a) if a.type().is_boolean() else a).cast(
        "float64"
    ),
    qm.Op.STR_CONTAINS: lambda a, b: a.contains(b),
    qm.Op.YEAR: lambda d: d.year().cast("int64"),
    qm.Op.MONTH: lambda d: d.month().cast("int64"),
    qm.Op.DAY: lambda d: d.day().cast("int64"),
    qm.Op.TO_FIRST_OF_MONTH: lambda d: ibis.date(d.year(), d.month(), ibis.literal(1)),
    qm.Op.TO_FIRST_OF_YEAR: lambda d: ibis.date(d.year(), ibis.literal(1), ibis.literal(1)),
    qm.Op.DATE_ADD_DAYS: lambda d, n: _in_range(_add_days(d, n)),
    qm.Op.DATE_ADD_MONTHS: lambda d, n: _in_range(_add_months(d, n)),
    qm.Op.DATE_ADD_YEARS: lambda d, n: _in_range(_add_months(d, n * 12)),
    qm.Op.DATE_DIFF_DAYS: lambda a, b: a.delta(b, unit="day").cast("int64"),
    qm.Op.DATE_DIFF_MONTHS: _diff_months,
    qm.Op.DATE_DIFF_YEARS: _diff_years,
    qm.Op.MAXIMUM_OF: _extreme(ibis.greatest),
    qm.Op.MINIMUM_OF: _extreme(ibis.least),
}

SQLITE_FUNCTIONS: dict[qm.Op, Callable[..., ir.Value]] = {
    qm.Op.DATE_ADD_MONTHS: lambda d, n: _in_range(sqlite_add_months(d, n.cast("int64"))),
    qm.Op.DATE_ADD_YEARS: lambda d, n: _in_range(sqlite_add_months(d, n.cast("int64") * 12)),
}
