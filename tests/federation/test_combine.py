"""combine_released end to end: the output folder, its manifest, charts, and bad input."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pyarrow as pa
import pytest

from fedsafe.disclosure import DisclosurePolicy, Status, check_output_file, protect_measure_table
from fedsafe.disclosure.writing import write_protected_table
from fedsafe.errors import FedsafeError
from fedsafe.federation import (
    CombineError,
    EstimatesFileError,
    ReleasedFilesError,
    combine_released,
)
from fedsafe.federation.meta import meta_analyse

POLICY = DisclosurePolicy()


def _measures(root: Path, backend: str, counts: list[tuple[str, int, int]]) -> None:
    table = pa.table(
        {
            "measure": ["flu"] * len(counts),
            "interval_start": [start for start, _, _ in counts],
            "interval_end": [start for start, _, _ in counts],
            "numerator": pa.array([n for _, n, _ in counts], type=pa.int64()),
            "denominator": pa.array([d for _, _, d in counts], type=pa.int64()),
        }
    )
    protected, record = protect_measure_table(table, POLICY)
    path = root / backend / "output" / "measures.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_protected_table(protected, path, record)


def _estimates(root: Path, backend: str, text: str, name: str = "model.csv") -> Path:
    path = root / backend / "output" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def released(tmp_path: Path) -> Path:
    root = tmp_path / "released"
    _measures(root, "north", [("2024-01-01", 40, 200), ("2024-02-01", 52, 210)])
    _measures(root, "south", [("2024-01-01", 33, 150), ("2024-02-01", 3, 160)])
    _estimates(root, "north", "term,estimate,std_error\nage,0.30,0.10\nsex,0.10,0.05\n")
    _estimates(root, "south", "term,estimate,std_error\nage,0.50,0.20\nsex,,\n")
    _estimates(root, "north", "term,events,total\nvaccinated,120,400\n", "uptake.csv")
    _estimates(root, "south", "term,events,total\nvaccinated,90,200\n", "uptake.csv")
    (root / "south" / "output" / "notes.txt").write_text("free text\n")
    return root


def test_combined_folder(released: Path, tmp_path: Path) -> None:
    out = tmp_path / "combined"
    report = combine_released(released, out, POLICY)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest == report.manifest
    assert manifest["backends"] == ["north", "south"]
    assert {o["path"] for o in manifest["outputs"]} == {
        "meta/output__model.csv",
        "meta/output__uptake.csv",
        "tables/output/measures.csv",
        *(f"charts/output__{n}.{s}" for n in ("model.forest", "uptake.forest", "measures")
          for s in ("svg", "png")),
    }  # fmt: skip
    assert manifest["skipped"] == [
        {"path": "output/notes.txt", "reason": "only CSV tables are pooled"}
    ]
    assert len(manifest["inputs"]) == 7
    model = next(o for o in manifest["outputs"] if o["path"] == "meta/output__model.csv")
    assert model["withheld"] == {"sex": ["south"]}


def test_meta_csv_holds_every_digit(released: Path, tmp_path: Path) -> None:
    combine_released(released, tmp_path / "combined", POLICY)
    lines = (tmp_path / "combined" / "meta" / "output__model.csv").read_text().splitlines()
    header, age, sex = (line.split(",") for line in lines)
    expected = meta_analyse("age", ["north", "south"], [0.30, 0.50], [0.10, 0.20])
    age_row = dict(zip(header, age, strict=True))
    assert float(age_row["fixed_estimate"]) == expected.fixed.estimate
    assert float(age_row["random_estimate"]) == expected.random.estimate
    assert float(age_row["tau2"]) == expected.tau2
    assert dict(zip(header, sex, strict=True))["k"] == "1"


def test_pooled_table_passes_the_checker_and_charts_are_images(
    released: Path, tmp_path: Path
) -> None:
    out = tmp_path / "combined"
    combine_released(released, out, POLICY)
    table = out / "tables" / "output" / "measures.csv"
    assert check_output_file(table, POLICY).status is Status.PASS
    rows = list(csv.DictReader(table.open()))
    # Jan: 40/200 + 35/150; Feb: 50/210 + redacted/160
    assert [(r["interval_start"], r["numerator"], r["denominator"]) for r in rows] == [
        ("2024-01-01", "75", "350"),
        ("2024-02-01", "", "370"),
    ]
    assert float(rows[0]["ratio"]) == 75 / 350
    assert rows[1]["ratio"] == ""
    assert (out / "charts" / "output__measures.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (out / "charts" / "output__model.forest.svg").read_bytes()[:500]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(
    ("break_it", "error", "message"),
    [
        (
            lambda r: _estimates(r, "south", "term,estimate,std_error\nage,x,1\n"),
            EstimatesFileError,
            r"model\.csv, line 2, column 'estimate'",
        ),
        (
            lambda r: _estimates(r, "south", "term,events,total\nage,1,2\n"),
            ReleasedFilesError,
            "different kinds of estimates file",
        ),
        (lambda r: (r / "Bad Name").mkdir(), ReleasedFilesError, "not a backend name"),
        (lambda r: (r / "stray.csv").write_text("x\n"), ReleasedFilesError, "only folders"),
        (
            lambda r: os.symlink("/etc/hostname", r / "north" / "link.csv"),
            ReleasedFilesError,
            "symbolic link",
        ),
    ],
)
def test_bad_input_changes_nothing(released, tmp_path, break_it, error, message) -> None:
    out = tmp_path / "combined"
    combine_released(released, out, POLICY)
    before = _snapshot(out)
    break_it(released)
    with pytest.raises(error, match=message) as caught:
        combine_released(released, out, POLICY)
    assert isinstance(caught.value, FedsafeError)
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_refuses_to_replace_a_folder_it_did_not_write(released: Path, tmp_path: Path) -> None:
    out = tmp_path / "someone_else"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(CombineError, match="not the output of an earlier combine"):
        combine_released(released, out, POLICY)
    assert (out / "thesis.tex").read_text() == "precious"


def test_refuses_an_output_folder_inside_the_released_files(released: Path) -> None:
    with pytest.raises(CombineError, match="outside the released files"):
        combine_released(released, released / "north" / "combined", POLICY)


def test_missing_or_empty_released_folder(tmp_path: Path) -> None:
    with pytest.raises(ReleasedFilesError, match="no such folder"):
        combine_released(tmp_path / "nope", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReleasedFilesError, match="no backend folders"):
        combine_released(tmp_path / "empty", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_pooled_table_a_person_must_review_is_skipped_not_published(tmp_path: Path) -> None:
    """A hand-written sidecar calls a column of numbers a label: the checker wants a person to
    look, so the pooled table is left out (combined outputs may be published unattended)."""
    root = tmp_path / "released"
    for backend in ("a", "b"):
        path = root / backend / "counts.csv"
        path.parent.mkdir(parents=True)
        path.write_text("practice,patients\n101,40\n102,55\n")
        (root / backend / "counts.csv.disclosure.json").write_text(
            '{"columns": {"practice": "label", "patients": "count"}}'
        )
    report = combine_released(root, tmp_path / "out", POLICY)
    assert report.outputs == []
    (skipped,) = report.skipped
    assert skipped["path"] == "counts.csv"
    assert skipped["reason"].startswith("the pooled table needs review")
    assert not (tmp_path / "out" / "tables").exists() or not any(
        p.is_file() for p in (tmp_path / "out" / "tables").rglob("*")
    )


def test_a_pooled_count_table_with_a_text_label(tmp_path: Path) -> None:
    root = tmp_path / "released"
    for backend, (x, y) in (("a", (40, "")), ("b", (55, 20))):
        path = root / backend / "counts.csv"
        path.parent.mkdir(parents=True)
        path.write_text(f"region,patients\nx,{x}\ny,{y}\n")
        (root / backend / "counts.csv.disclosure.json").write_text(
            '{"columns": {"region": "label", "patients": "count"}}'
        )
    combine_released(root, tmp_path / "out", POLICY)
    rows = list(csv.DictReader((tmp_path / "out" / "tables" / "counts.csv").open()))
    # x: 40 + 55; y: a redacted its cell, so the combined cell is redacted too.
    assert [(r["region"], r["patients"]) for r in rows] == [("x", "95"), ("y", "")]
