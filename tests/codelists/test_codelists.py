"""fedsafe codelists add / check on the real codelists in shared/data, and on broken copies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fedsafe.codelists.add import add_codelist
from fedsafe.codelists.check import check_codelists
from fedsafe.pipeline.errors import CodelistCheckError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "codelists"

# file, system, the column add should pick by itself, number of distinct codes
REAL = [
    ("nhsd-primary-care-domain-refsets-dm_cod.csv", "snomedct", "code", 79),
    ("user-speed-vm-osteoarthritis-snomed-ct.csv", "snomedct", "code", 392),
    ("opensafely-cancer-excluding-lung-and-haematological-snomed.csv", "snomedct", "id", 5891),
    ("opensafely-ethnicity-snomed-0removed.csv", "snomedct", "snomedcode", 599),
    ("user-speed-vm-nsaids-dmd.csv", "dmd", "dmd_id", 1447),
    ("opensafely-strongopioidsCW-dmd.csv", "dmd", "dmd_id", 1560),
]


def test_the_shared_codelists_are_there() -> None:
    assert sorted(p.name for p in SHARED.glob("*.csv")) == sorted(r[0] for r in REAL)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with every real codelist added from outside it."""
    for name, system, _, _ in REAL:
        # The first has no coding system in its name, so it must be given.
        add_codelist(tmp_path, SHARED / name, system=system if "dm_cod" in name else None)
    return tmp_path


def test_add_records_system_column_count_and_hash(project: Path) -> None:
    recorded = json.loads((project / "codelists/codelists.json").read_text())
    for name, system, column, count in REAL:
        assert recorded[name]["system"] == system
        assert recorded[name]["column"] == column
        assert recorded[name]["codes"] == count
        assert (project / "codelists" / name).read_bytes() == (SHARED / name).read_bytes()
    listed = (project / "codelists/codelists.txt").read_text().splitlines()
    assert [line for line in listed if not line.startswith("#")] == [r[0] for r in REAL]
    checked = check_codelists(project)
    assert [(c.file, c.system, c.codes) for c in checked] == [
        (f"codelists/{name}", system, count) for name, system, _, count in REAL
    ]


def test_adding_again_does_not_list_twice(project: Path) -> None:
    add_codelist(project, project / "codelists" / REAL[4][0])
    listed = (project / "codelists/codelists.txt").read_text().splitlines()
    assert listed.count(REAL[4][0]) == 1


def check_problems(project: Path) -> str:
    with pytest.raises(CodelistCheckError) as caught:
        check_codelists(project)
    return str(caught.value)


def test_a_missing_file_is_named_with_its_line(project: Path) -> None:
    (project / "codelists" / REAL[1][0]).unlink()
    problems = check_problems(project)
    assert f"codelists/codelists.txt, line 3: codelists/{REAL[1][0]} does not exist" in problems


def test_an_invalid_code_is_named_with_its_file_and_line(project: Path) -> None:
    path = project / "codelists" / REAL[4][0]
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace("602711000001108", "602711000001109", 2)  # one digit off
    path.write_text("".join(lines))
    problems = check_problems(project)
    assert f"codelists/{REAL[4][0]}, line 4: '602711000001109' is not a valid dm+d code" in problems
    assert "check digit is wrong" in problems


def test_an_edited_file_no_longer_matches_its_hash(project: Path) -> None:
    path = project / "codelists" / REAL[0][0]
    path.write_text(path.read_text() + "73211009,Diabetes mellitus\n")  # valid, but not recorded
    assert "has changed since it was recorded" in check_problems(project)
    add_codelist(project, path, system="snomedct")  # recording the change makes it pass
    assert len(check_codelists(project)) == len(REAL)


def test_a_listed_but_unrecorded_codelist_says_how_to_record_it(project: Path) -> None:
    shutil.copyfile(SHARED / REAL[0][0], project / "codelists/extra.csv")
    with (project / "codelists/codelists.txt").open("a") as handle:
        handle.write("extra.csv\n")
    assert "run 'fedsafe codelists add codelists/extra.csv'" in check_problems(project)


def test_a_recorded_but_unlisted_codelist_is_refused(project: Path) -> None:
    txt = project / "codelists/codelists.txt"
    txt.write_text(txt.read_text().replace(REAL[2][0] + "\n", ""))
    assert f"{REAL[2][0]!r} is recorded but not listed" in check_problems(project)


def test_an_unreadable_csv_is_refused(project: Path) -> None:
    path = project / "codelists" / REAL[0][0]
    path.write_bytes("code,term\n111552007,Diab\u00e8te\n".encode("latin-1"))  # Excel's export
    assert f"codelists/{REAL[0][0]}: the file is not UTF-8 text" in check_problems(project)


def test_an_entry_that_escapes_the_folder_is_refused(project: Path) -> None:
    with (project / "codelists/codelists.txt").open("a") as handle:
        handle.write("../../etc/passwd.csv\n")
    assert "line 8: '../../etc/passwd.csv' must be a file name in codelists/" in check_problems(
        project
    )


def test_csv_files_without_a_codelists_txt_are_refused(tmp_path: Path) -> None:
    (tmp_path / "codelists").mkdir()
    shutil.copyfile(SHARED / REAL[0][0], tmp_path / "codelists" / REAL[0][0])
    assert "codelists/codelists.txt is missing" in check_problems(tmp_path)


def test_a_project_without_codelists_passes(tmp_path: Path) -> None:
    assert check_codelists(tmp_path) == []


@pytest.mark.parametrize(
    ("system", "column", "words"),
    [
        (None, None, "cannot tell the coding system from the file name; give it with --system"),
        ("snomed", None, "unknown coding system 'snomed'"),
        ("snomedct", "codes", "there is no column 'codes'"),
        ("icd10", None, "not a valid ICD-10 code"),
    ],
)
def test_add_refuses_and_records_nothing(
    tmp_path: Path, system: str | None, column: str | None, words: str
) -> None:
    with pytest.raises(CodelistCheckError) as caught:
        add_codelist(tmp_path, SHARED / REAL[0][0], system=system, column=column)
    assert words in str(caught.value)
    assert not (tmp_path / "codelists").exists()
