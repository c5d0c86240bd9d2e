"""Pooled tables: sums of released counts with the policy re-applied, and attacks on them.

The backends' tables are made the way a backend makes them (``protect_measure_table`` and a
sidecar), from raw counts the test chooses, so the test knows every value a backend redacted.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedsafe.disclosure import DisclosurePolicy, protect_count, protect_measure_table
from fedsafe.disclosure.counts import is_possible_protected_count
from fedsafe.disclosure.writing import write_protected_table
from fedsafe.federation import ReleasedFilesError, combine_released
from fedsafe.federation.pooling import SkipTable, pool_tables

GROUPS = ("a", "b", "c")
_TEXT = pacsv.ConvertOptions(column_types={"group": pa.string()})


def _measures(rows: list[tuple[str, int, int]]) -> pa.Table:
    """A raw measures table: (group, numerator, denominator) per row, one interval."""
    return pa.table(
        {
            "measure": ["m"] * len(rows),
            "interval_start": ["2024-01-01"] * len(rows),
            "interval_end": ["2024-01-31"] * len(rows),
            "ratio": [n / d if d else None for _, n, d in rows],
            "numerator": pa.array([n for _, n, _ in rows], type=pa.int64()),
            "denominator": pa.array([d for _, _, d in rows], type=pa.int64()),
            "group": [g for g, _, _ in rows],
        }
    )


def _release(
    root: Path, backend: str, rows: list[tuple[str, int, int]], policy: DisclosurePolicy
) -> Path:
    """What a backend releases: its measures protected with its policy, and the sidecar."""
    protected, record = protect_measure_table(_measures(rows), policy)
    path = root / backend / "measures.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_protected_table(protected, path, record)


def _pooled_rows(table: pa.Table) -> dict[str, tuple[int | None, int | None]]:
    groups = table.column("group").to_pylist()
    numerators = table.column("numerator").to_pylist()
    denominators = table.column("denominator").to_pylist()
    return dict(zip(groups, zip(numerators, denominators, strict=True), strict=True))


def test_counts_are_summed_then_protected_and_ratio_recomputed(tmp_path: Path) -> None:
    policy = DisclosurePolicy()
    a = _release(tmp_path, "a", [("a", 40, 200), ("b", 12, 31)], policy)
    b = _release(tmp_path, "b", [("a", 33, 150), ("b", 60, 99)], policy)
    pooled = pool_tables({"a": a, "b": b}, policy, relative="measures.csv")
    rows = _pooled_rows(pooled.table)
    # released: a: 40/200, 10/30; b: 35/150, 60/100 -> sums 75/350, 70/130, re-rounded
    assert rows == {"a": (75, 350), "b": (70, 130)}
    assert pooled.table.column("ratio").to_pylist() == [75 / 350, 70 / 130]
    assert pooled.table.column_names == [
        "measure", "interval_start", "interval_end", "ratio", "numerator", "denominator", "group"
    ]  # fmt: skip
    assert pooled.is_measures


def test_a_row_missing_from_a_measures_table_has_no_patients(tmp_path: Path) -> None:
    policy = DisclosurePolicy()
    a = _release(tmp_path, "a", [("a", 40, 200)], policy)
    b = _release(tmp_path, "b", [("a", 20, 100), ("b", 50, 100)], policy)
    rows = _pooled_rows(pool_tables({"a": a, "b": b}, policy, relative="m").table)
    assert rows == {"a": (60, 300), "b": (50, 100)}


def test_a_redacted_cell_redacts_the_combined_cell(tmp_path: Path) -> None:
    policy = DisclosurePolicy()
    a = _release(tmp_path, "a", [("a", 3, 200)], policy)  # 3 is redacted
    b = _release(tmp_path, "b", [("a", 40, 100)], policy)
    pooled = pool_tables({"a": a, "b": b}, policy, relative="m")
    assert _pooled_rows(pooled.table) == {"a": (None, 300)}
    assert pooled.table.column("ratio").to_pylist() == [None]
    assert pooled.withheld_by_backend == 1


# ---------------------------------------------------------------------------------------------
# Attacks: an intruder holding every backend's released table and the combined table.


@pytest.mark.parametrize("policy", [DisclosurePolicy(), DisclosurePolicy(rounding="midpoint")])
def test_attack_subtracting_other_backends_from_the_combined_cell(
    tmp_path: Path, policy: DisclosurePolicy
) -> None:
    """A's cell is suppressed; B's and C's are released. If the combined cell were the sum of
    what is known (or of the raw counts), combined - B - C would give A's cell back. The
    intruder's subtraction must have nothing to subtract from, for every hidden value."""
    for hidden in range(1, policy.suppress_at_or_below + 1):
        root = tmp_path / f"world{hidden}"
        a = _release(root, "a", [("a", hidden, 500)], policy)
        b = _release(root, "b", [("a", 40, 500)], policy)
        c = _release(root, "c", [("a", 25, 500)], policy)
        combined = _pooled_rows(pool_tables({"a": a, "b": b, "c": c}, policy, relative="m").table)
        numerator, denominator = combined["a"]
        assert numerator is None, f"combined numerator published while A's {hidden} was hidden"
        assert denominator == protect_count(3 * protect_count(500, policy), policy)


def test_attack_the_combined_output_is_the_same_whatever_the_hidden_value(tmp_path: Path) -> None:
    """Stronger: worlds that differ only in A's suppressed cell (1..7) give byte-identical
    combined outputs, so no computation on them can tell the worlds apart."""
    policy = DisclosurePolicy()
    outputs = set()
    for hidden in range(1, 8):
        root = tmp_path / f"world{hidden}"
        _release(root / "released", "a", [("a", hidden, 500), ("b", 90, 400)], policy)
        _release(root / "released", "b", [("a", 40, 500), ("b", 88, 300)], policy)
        combine_released(root / "released", root / "out", policy)
        outputs.add((root / "out" / "tables" / "measures.csv").read_bytes())
    assert len(outputs) == 1


@st.composite
def _federation(draw):
    policy = draw(
        st.sampled_from(
            [
                DisclosurePolicy(),
                DisclosurePolicy(rounding="midpoint"),
                DisclosurePolicy(suppress_at_or_below=10, rounding="none"),
                DisclosurePolicy(suppress_zero=True, rounding_base=10),
            ]
        )
    )
    backends = []
    for _ in range(draw(st.integers(1, 4))):
        groups = draw(st.lists(st.sampled_from(GROUPS), min_size=1, max_size=3, unique=True))
        rows = []
        for group in groups:
            denominator = draw(st.integers(1, 60))
            rows.append((group, draw(st.integers(0, denominator)), denominator))
        backends.append(rows)
    return policy, backends


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_federation())
def test_pooled_tables_never_publish_a_cell_the_policy_would_suppress(tmp_path_factory, case):
    policy, backends = case
    root = tmp_path_factory.mktemp("released")
    files = {f"b{i}": _release(root, f"b{i}", rows, policy) for i, rows in enumerate(backends)}
    released = {
        name: _pooled_rows(pacsv.read_csv(path, convert_options=_TEXT))
        for name, path in files.items()
    }
    pooled = _pooled_rows(pool_tables(files, policy, relative="m").table)
    for group, cells in pooled.items():
        for index, value in enumerate(cells):
            contributions = [
                rows[group][index] if group in rows else 0 for rows in released.values()
            ]
            if value is None:
                continue
            assert is_possible_protected_count(value, policy), (group, value)
            assert value == 0 or value > policy.suppress_at_or_below
            assert None not in contributions, "published a sum over a redacted cell"
            assert value == protect_count(sum(contributions), policy)


def test_tables_that_disagree_are_refused(tmp_path: Path) -> None:
    policy = DisclosurePolicy()
    a = _release(tmp_path, "a", [("a", 40, 200)], policy)
    other = tmp_path / "b" / "measures.csv"
    other.parent.mkdir()
    protected, record = protect_measure_table(_measures([("a", 40, 200)]).drop(["group"]), policy)
    write_protected_table(protected, other, record)
    with pytest.raises(ReleasedFilesError, match="each backend must release the same table"):
        pool_tables({"a": a, "b": other}, policy, relative="measures.csv")


def test_a_count_that_is_not_a_count_names_file_line_and_column(tmp_path: Path) -> None:
    policy = DisclosurePolicy()
    a = _release(tmp_path, "a", [("a", 40, 200), ("b", 40, 200)], policy)
    a.write_text(a.read_text().replace("200", "2x0", 1))
    with pytest.raises(ReleasedFilesError, match=r"line 2, column 'denominator'.*'2x0'"):
        pool_tables({"a": a}, policy, relative="measures.csv")


def test_files_without_a_sidecar_are_skipped_not_guessed(tmp_path: Path) -> None:
    path = tmp_path / "a" / "table.csv"
    path.parent.mkdir()
    path.write_text("group,n\nx,10\n")
    with pytest.raises(SkipTable, match=r"no \.disclosure\.json sidecar"):
        pool_tables({"a": path}, DisclosurePolicy(), relative="table.csv")
