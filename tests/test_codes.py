"""Tests for fedsafe.codes: code validation and reading codelists from CSV.

The real codelists in the shared data folder are the ground truth for the SNOMED CT and dm+d
validators: every code in them is a real identifier, so if one fails, the validator is wrong.
"""

from __future__ import annotations

import csv
import dataclasses
import pickle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedsafe.codes import (
    CODE_TYPES,
    BaseCode,
    BNFCode,
    Codelist,
    CodelistError,
    CTV3Code,
    DMDCode,
    ICD10Code,
    InvalidCodeError,
    OPCS4Code,
    SNOMEDCTCode,
    UnknownCodeSystemError,
    code_type_for,
    codelist_from_csv,
    codelist_from_csv_lines,
    verhoeff_check_digit,
)

# /work/main/tests/test_codes.py -> /work/shared/data/codelists. Read-only shared data: the
# tests must fail (not skip) if it is missing, because then nothing real has been checked.
REAL_CODELISTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "codelists"

# (file, code column, code type, category columns worth checking)
REAL_CODELIST_FILES: list[tuple[str, str, type[BaseCode], tuple[str, ...]]] = [
    ("nhsd-primary-care-domain-refsets-dm_cod.csv", "code", SNOMEDCTCode, ()),
    ("opensafely-cancer-excluding-lung-and-haematological-snomed.csv", "id", SNOMEDCTCode, ()),
    (
        "opensafely-ethnicity-snomed-0removed.csv",
        "snomedcode",
        SNOMEDCTCode,
        ("Grouping_6", "Grouping_16"),
    ),
    ("opensafely-strongopioidsCW-dmd.csv", "dmd_id", DMDCode, ("dmd_type",)),
    ("user-speed-vm-nsaids-dmd.csv", "dmd_id", DMDCode, ("dmd_type",)),
    ("user-speed-vm-osteoarthritis-snomed-ct.csv", "code", SNOMEDCTCode, ()),
]
DMD_FILES = [name for name, _, code_type, _ in REAL_CODELIST_FILES if code_type is DMDCode]


def write_csv(path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def independent_read(path: Path, column: str) -> list[dict[str, str]]:
    """Rows of a real codelist read with DictReader, to cross-check the loader."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        return [row for row in csv.DictReader(file) if row[column].strip()]


# ---------------------------------------------------------------------------------------------
# Verhoeff check digit
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "check"),
    [
        ("236", "3"),  # the textbook example
        ("12345", "1"),
        ("142857", "0"),
        ("2229800", "6"),  # 22298006, myocardial infarction
        ("11155200", "7"),  # 111552007, diabetes mellitus without complication
        ("389731100000110", "9"),  # 3897311000001109, a dm+d VMP
        ("1", "5"),
    ],
)
def test_verhoeff_check_digit_known_values(digits: str, check: str) -> None:
    assert verhoeff_check_digit(digits) == check


@pytest.mark.parametrize("bad", ["", "12a", "1.5", "-12", "١٢٣"])
def test_verhoeff_check_digit_rejects_non_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="string of digits"):
        verhoeff_check_digit(bad)


def is_verhoeff_valid(digits: str) -> bool:
    return verhoeff_check_digit(digits[:-1]) == digits[-1]


digit_strings = st.text(alphabet="0123456789", min_size=1, max_size=30)


@given(digit_strings)
def test_verhoeff_appending_check_digit_makes_a_valid_number(digits: str) -> None:
    number = digits + verhoeff_check_digit(digits)
    assert is_verhoeff_valid(number)
    for other in "0123456789":
        if other != number[-1]:
            assert not is_verhoeff_valid(number[:-1] + other)


@given(digit_strings, st.data())
def test_verhoeff_detects_any_single_digit_error(digits: str, data: st.DataObject) -> None:
    number = digits + verhoeff_check_digit(digits)
    position = data.draw(st.integers(0, len(number) - 1))
    replacement = data.draw(st.sampled_from([d for d in "0123456789" if d != number[position]]))
    assert not is_verhoeff_valid(number[:position] + replacement + number[position + 1 :])


@given(st.text(alphabet="0123456789", min_size=2, max_size=30), st.data())
def test_verhoeff_detects_any_adjacent_transposition(digits: str, data: st.DataObject) -> None:
    number = digits + verhoeff_check_digit(digits)
    i = data.draw(st.integers(0, len(number) - 2))
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    if swapped != number:
        assert not is_verhoeff_valid(swapped)


# An SCTID is item digits, an optional 7-digit namespace, a partition identifier and the check
# digit; generate valid ones of both formats within the 6-18 digit limit.
short_format_payloads = st.builds(
    lambda first, rest, partition: first + rest + partition,
    st.sampled_from("123456789"),
    st.text(alphabet="0123456789", min_size=2, max_size=14),
    st.sampled_from(["00", "01", "02"]),
)
long_format_payloads = st.builds(
    lambda first, rest, namespace, partition: first + rest + namespace + partition,
    st.sampled_from("123456789"),
    st.text(alphabet="0123456789", max_size=7),
    st.text(alphabet="0123456789", min_size=7, max_size=7),
    st.sampled_from(["10", "11", "12", "16"]),
)


@pytest.mark.parametrize("code_type", [SNOMEDCTCode, DMDCode])
@given(payload=st.one_of(short_format_payloads, long_format_payloads))
def test_sctid_with_correct_check_digit_is_valid_and_wrong_one_is_not(
    code_type: type[BaseCode], payload: str
) -> None:
    check = verhoeff_check_digit(payload)
    assert code_type(payload + check).value == payload + check
    wrong = str((int(check) + 1) % 10)
    with pytest.raises(InvalidCodeError, match=rf"check digit is wrong \(expected {check}\)"):
        code_type(payload + wrong)


# ---------------------------------------------------------------------------------------------
# Code types
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code_type", "value"),
    [
        (SNOMEDCTCode, "22298006"),
        (SNOMEDCTCode, "111552007"),
        (SNOMEDCTCode, "112991000000101"),  # long format, UK namespace 1000000
        (SNOMEDCTCode, "11000001102"),  # shortest long format: item 1, namespace 1000001
        (SNOMEDCTCode, "100005"),  # shortest possible: 6 digits
        (SNOMEDCTCode, "1010664005"),
        (DMDCode, "3897311000001109"),  # VMP
        (DMDCode, "42112011000001107"),  # AMP, 17 digits
        (DMDCode, "322299000"),  # a VMP with a core (short format, partition 00) ID
        (ICD10Code, "E11"),
        (ICD10Code, "E119"),
        (ICD10Code, "I21X"),  # three-character code padded with X, as in SUS data
        (CTV3Code, "XE0Uh"),
        (CTV3Code, "G30.."),
        (CTV3Code, "Y1234"),
        (CTV3Code, "22K.."),
        (CTV3Code, "XaBVJ"),
        (CTV3Code, "13..."),
        (CTV3Code, "G301."),
        (OPCS4Code, "K40"),
        (OPCS4Code, "K401"),
        (OPCS4Code, "Z942"),
        (BNFCode, "040702020AAAAAA"),
        (BNFCode, "0407020Q0AAAAAA"),
        (BNFCode, "100101040BBAAAA"),
        (BNFCode, "1001010AAAAABAB"),
        (BNFCode, "21220000023"),  # an appliance
    ],
)
def test_valid_codes(code_type: type[BaseCode], value: str) -> None:
    code = code_type(value)
    assert code.value == value
    assert str(code) == value
    assert code_type.is_valid(value)
    assert code_type.find_problem(value) is None


@pytest.mark.parametrize(
    ("code_type", "value", "reason"),
    [
        # SNOMED CT: format, partition, namespace, check digit, spreadsheet damage
        (SNOMEDCTCode, "", "it is empty"),
        (SNOMEDCTCode, " 22298006", "whitespace around it"),
        (SNOMEDCTCode, "22298006\n", "whitespace around it"),
        (SNOMEDCTCode, "12345", "it has 5 digits, but SNOMED CT codes have 6 to 18"),
        (SNOMEDCTCode, "1" * 19, "it has 19 digits"),
        (SNOMEDCTCode, "022298006", "starts with 0"),
        (SNOMEDCTCode, "2229800X", "only the digits 0-9"),
        (SNOMEDCTCode, "22298-006", "only the digits 0-9"),
        (SNOMEDCTCode, "٢٢٢٩٨٠٠٦", "only the digits 0-9"),  # non-ASCII digits
        (SNOMEDCTCode, "1.11552E+08", "scientific notation"),
        (SNOMEDCTCode, "111552007.0", "did you mean '111552007'"),
        (SNOMEDCTCode, "123456", "partition identifier .* is '45'"),
        (SNOMEDCTCode, "1234034", "partition identifier .* is '03'"),  # RF1 subset: retired
        (SNOMEDCTCode, "123105", "at least 11 digits"),  # long format but no room for namespace
        (SNOMEDCTCode, "22298007", r"check digit is wrong \(expected 6\)"),
        (SNOMEDCTCode, "22289006", r"check digit is wrong"),  # adjacent digits swapped
        (SNOMEDCTCode, "112991000000102", r"check digit is wrong \(expected 1\)"),
        (DMDCode, "3897311000001108", r"not a valid dm\+d code: its check digit is wrong"),
        (DMDCode, "ABC", r"dm\+d codes contain only the digits 0-9"),
        # ICD-10
        (ICD10Code, "E1", "capital letter and two digits"),
        (ICD10Code, "E11.9", "did you mean 'E119'"),
        (ICD10Code, "e119", "did you mean 'E119'"),
        (ICD10Code, "E11Y", "capital letter and two digits"),
        (ICD10Code, "E1190", "capital letter and two digits"),
        (ICD10Code, "111", "capital letter and two digits"),
        # CTV3: exactly five characters, dots only as trailing padding, case matters
        (CTV3Code, "G30", "it has 3 characters, but CTV3 codes have exactly 5"),
        (CTV3Code, "G30...", "it has 6 characters"),
        (CTV3Code, ".G30.", "only trailing characters may be dots"),
        (CTV3Code, "G.30.", "only trailing characters may be dots"),
        (CTV3Code, "G....", "at least the first two are not"),
        (CTV3Code, "~G30.", "only trailing characters may be dots"),
        # OPCS-4
        (OPCS4Code, "K40.1", "did you mean 'K401'"),
        (OPCS4Code, "k401", "did you mean 'K401'"),
        (OPCS4Code, "I401", r"capital letter \(not I\)"),
        (OPCS4Code, "K4", "two or three digits"),
        (OPCS4Code, "K4011", "two or three digits"),
        # BNF
        (BNFCode, "040702020aaaaaa", "did you mean '040702020AAAAAA'"),
        (BNFCode, "0407020", "15 characters for a drug"),
        (BNFCode, "04070202011AAAA", "15 characters for a drug"),  # product must start A-Z
        (BNFCode, "240702020AAAAAA", "15 characters for a drug"),  # chapter 24 is not BNF
        (BNFCode, "24220000023", "starting 20 to 23"),
    ],
)
def test_invalid_codes(code_type: type[BaseCode], value: str, reason: str) -> None:
    with pytest.raises(InvalidCodeError) as caught:
        code_type(value)
    message = str(caught.value)
    assert message.startswith(f"{value!r} is not a valid {code_type.system_name} code: ")
    assert caught.match(reason)
    assert not code_type.is_valid(value)
    assert code_type.find_problem(value) is not None


def test_invalid_code_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        SNOMEDCTCode("nonsense")


@pytest.mark.parametrize("value", [22298006, None, b"22298006"])
def test_code_values_must_be_strings(value: object) -> None:
    with pytest.raises(InvalidCodeError, match=r"must be given as text, e.g. SNOMEDCTCode\("):
        SNOMEDCTCode(value)  # type: ignore[arg-type]
    assert not SNOMEDCTCode.is_valid(value)  # type: ignore[arg-type]


def test_base_code_cannot_be_used_directly() -> None:
    with pytest.raises(TypeError, match="use one of them instead, such as SNOMEDCTCode"):
        BaseCode("22298006")


def test_codes_are_immutable_hashable_and_picklable() -> None:
    code = SNOMEDCTCode("22298006")
    with pytest.raises(dataclasses.FrozenInstanceError):
        code.value = "111552007"  # type: ignore[misc]
    assert {code, SNOMEDCTCode("22298006")} == {code}
    assert pickle.loads(pickle.dumps(code)) == code
    assert repr(code) == "SNOMEDCTCode(value='22298006')"


def test_codes_compare_and_sort_by_value_within_a_type() -> None:
    codes = [ICD10Code("J45"), ICD10Code("E119"), ICD10Code("E11")]
    assert sorted(codes) == [ICD10Code("E11"), ICD10Code("E119"), ICD10Code("J45")]
    assert ICD10Code("E11") < ICD10Code("E119") <= ICD10Code("E119")
    assert ICD10Code("E11") == ICD10Code("E11")
    assert ICD10Code("E11") != ICD10Code("E12")


def test_codes_of_different_types_are_never_equal_or_ordered() -> None:
    # The same digits mean different things in different systems.
    assert SNOMEDCTCode("322299000") != DMDCode("322299000")
    assert SNOMEDCTCode("322299000") != "322299000"
    with pytest.raises(TypeError):
        _ = SNOMEDCTCode("322299000") < DMDCode("322299000")


# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system_id", "code_type", "system_name"),
    [
        ("snomedct", SNOMEDCTCode, "SNOMED CT"),
        ("dmd", DMDCode, "dm+d"),
        ("icd10", ICD10Code, "ICD-10"),
        ("ctv3", CTV3Code, "CTV3"),
        ("opcs4", OPCS4Code, "OPCS-4"),
        ("bnf", BNFCode, "BNF"),
    ],
)
def test_registry(system_id: str, code_type: type[BaseCode], system_name: str) -> None:
    assert CODE_TYPES[system_id] is code_type
    assert code_type_for(system_id) is code_type
    assert code_type.system_id == system_id
    assert code_type.system_name == system_name
    assert code_type.is_valid(code_type.example)  # the example in error messages is valid


def test_registry_holds_exactly_the_six_code_types() -> None:
    assert set(CODE_TYPES.values()) == {
        SNOMEDCTCode,
        DMDCode,
        ICD10Code,
        CTV3Code,
        OPCS4Code,
        BNFCode,
    }


@pytest.mark.parametrize(
    ("system_id", "suggestion"),
    [("snomed", "did you mean 'snomedct'"), ("ICD10", "did you mean 'icd10'"), ("read", None)],
)
def test_unknown_coding_system(system_id: str, suggestion: str | None) -> None:
    with pytest.raises(UnknownCodeSystemError) as caught:
        code_type_for(system_id)
    message = str(caught.value)
    assert f"unknown coding system {system_id!r}" in message
    assert "'bnf', 'ctv3', 'dmd', 'icd10', 'opcs4', 'snomedct'" in message
    if suggestion:
        assert suggestion in message
    else:
        assert "did you mean" not in message
    assert isinstance(caught.value, ValueError)


# ---------------------------------------------------------------------------------------------
# The real codelists
# ---------------------------------------------------------------------------------------------


def test_real_codelists_folder_is_present_and_fully_covered() -> None:
    assert REAL_CODELISTS.is_dir(), f"shared codelists missing: {REAL_CODELISTS}"
    on_disk = {path.name for path in REAL_CODELISTS.glob("*.csv")}
    covered = {name for name, *_ in REAL_CODELIST_FILES}
    assert on_disk == covered, "add every shared codelist to REAL_CODELIST_FILES"


@pytest.mark.parametrize(
    ("filename", "column", "code_type", "category_columns"), REAL_CODELIST_FILES
)
def test_every_code_in_the_real_codelists_is_valid(
    filename: str, column: str, code_type: type[BaseCode], category_columns: tuple[str, ...]
) -> None:
    path = REAL_CODELISTS / filename
    codelist = codelist_from_csv(path, column=column)

    rows = independent_read(path, column)
    assert list(codelist) == list(dict.fromkeys(row[column].strip() for row in rows))
    codes = codelist.as_codes(code_type)
    assert [code.value for code in codes] == list(codelist)
    assert all(type(code) is code_type for code in codes)

    # Each recorded line number points at the physical line holding that code.
    file_lines = path.read_text(encoding="utf-8-sig").splitlines()
    for code, line in zip(codelist.codes, codelist.lines):
        cells = next(csv.reader([file_lines[line - 1]]))
        assert code in (cell.strip() for cell in cells), (code, line)


@pytest.mark.parametrize("filename", DMD_FILES)
def test_dmd_codelists_also_carry_valid_bnf_codes(filename: str) -> None:
    # The BNF validator is checked against the real BNF codes alongside the dm+d ones.
    codelist = codelist_from_csv(REAL_CODELISTS / filename, column="bnf_code")
    assert len(codelist.as_codes(BNFCode)) == len(codelist) > 0


@pytest.mark.parametrize(
    ("filename", "column", "category_column", "expected_categories"),
    [
        (
            "opensafely-ethnicity-snomed-0removed.csv",
            "snomedcode",
            "Grouping_6",
            {str(n) for n in range(1, 6)},
        ),
        (
            "opensafely-ethnicity-snomed-0removed.csv",
            "snomedcode",
            "Grouping_16",
            {str(n) for n in range(1, 17)},
        ),
        ("opensafely-strongopioidsCW-dmd.csv", "dmd_id", "dmd_type", {"VMP", "AMP"}),
    ],
)
def test_real_categorised_codelists(
    filename: str, column: str, category_column: str, expected_categories: set[str]
) -> None:
    path = REAL_CODELISTS / filename
    codelist = codelist_from_csv(str(path), column=column, category_column=category_column)
    categories = codelist.categories()
    assert set(categories.values()) <= expected_categories
    expected = {
        row[column].strip(): row[category_column].strip() for row in independent_read(path, column)
    }
    assert categories == expected
    assert list(categories) == list(codelist)


# ---------------------------------------------------------------------------------------------
# Reading CSV files
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path_type", [str, Path])
def test_reads_codes_ignoring_other_columns_and_blanks(tmp_path: Path, path_type: type) -> None:
    path = write_csv(
        tmp_path / "codes.csv",
        "term,code,notes\n"
        "Diabetes, 111552007 ,a\n"  # line 2: whitespace stripped
        "Blank,,b\n"  # line 3: blank code skipped
        "\n"  # line 4: blank line skipped
        'Quoted,"22298006","multi\nline note"\n'  # lines 5-6: a quoted newline
        "Repeat,111552007,c\n"  # line 7: repeat kept once, first line recorded
        "Short row\n"  # line 8: too few cells, no code
        "Infarct,   ,d\n",  # line 9: whitespace-only code skipped
    )
    codelist = codelist_from_csv(path_type(path), column="code")
    assert codelist.codes == ("111552007", "22298006")
    assert codelist.lines == (2, 5)
    assert codelist.source == str(path)
    assert codelist.category_map is None


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("utf-8 with BOM", "\ufeffcode,term\r\n22298006,MI\r\n".encode()),
        ("CRLF", b"code,term\r\n22298006,MI\r\n"),
        ("no final newline", b"code,term\n22298006,MI"),
        ("blank lines before header", b"\n\ncode,term\n22298006,MI\n"),
        ("padded header", b" code ,term\n22298006,MI\n"),
    ],
)
def test_file_format_variations(tmp_path: Path, name: str, raw: bytes) -> None:
    path = tmp_path / "codes.csv"
    path.write_bytes(raw)
    codelist = codelist_from_csv(path, column="code")
    assert codelist.codes == ("22298006",), name
    assert codelist.as_codes(SNOMEDCTCode) == (SNOMEDCTCode("22298006"),)


def test_category_column(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "eth.csv",
        "snomedcode,Grouping_6\n"
        "10292001, 5 \n"
        "108342005,5\n"
        "10292001,5\n"  # a repeat with the same category is fine
        "1234567890123,\n",  # a blank category is kept as "" (as ehrQL does)
    )
    codelist = codelist_from_csv(path, column="snomedcode", category_column="Grouping_6")
    assert codelist.categories() == {"10292001": "5", "108342005": "5", "1234567890123": ""}
    assert codelist.category_map == (("10292001", "5"), ("108342005", "5"), ("1234567890123", ""))


def test_codelist_from_csv_lines_accepts_lines_or_a_string() -> None:
    lines = ["\ufeffcode,category\n", "E11,diabetes\n", "J45,asthma\n"]
    from_lines = codelist_from_csv_lines(lines, column="code", category_column="category")
    from_text = codelist_from_csv_lines("".join(lines), column="code", category_column="category")
    assert from_lines == from_text
    assert from_lines.categories() == {"E11": "diabetes", "J45": "asthma"}
    assert from_lines.lines == (2, 3)
    assert from_lines.source == "<csv lines>"
    named = codelist_from_csv_lines(["code", "E11"], column="code", source="inline")
    assert named.source == "inline"
    assert named.codes == ("E11",)


# ---------------------------------------------------------------------------------------------
# Errors when reading CSV files
# ---------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "codelists" / "nope.csv"
    with pytest.raises(CodelistError, match="there is no codelist file here") as caught:
        codelist_from_csv(missing, column="code")
    assert str(missing) in str(caught.value)
    assert "backslash" not in str(caught.value)


@pytest.mark.parametrize("filename", ["codelists\\nope.csv", "codelists\test.csv"])
def test_missing_file_with_backslashes_suggests_forward_slashes(filename: str) -> None:
    with pytest.raises(CodelistError, match="use forward slashes"):
        codelist_from_csv(filename, column="code")


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(CodelistError, match="this is a folder"):
        codelist_from_csv(tmp_path, column="code")


@pytest.mark.parametrize(
    ("text", "column", "category_column", "expected"),
    [
        (
            "id,name,active,notes\n94632009,x,y,z\n",
            "code",
            None,
            "line 1: there is no column 'code' (given as column=); "
            "the columns are 'id', 'name', 'active', 'notes'",
        ),
        (
            "snomedcode,Ethnicity,Grouping_16,Grouping_6\n10292001,x,16,5\n",
            "snomedcode",
            "Grouping_8",
            "line 1: there is no column 'Grouping_8' (given as category_column=); the columns are "
            "'snomedcode', 'Ethnicity', 'Grouping_16', 'Grouping_6'",
        ),
        (
            "snomedcode,Grouping_6\n10292001,5\n",
            "snomedcode",
            "grouping_6",
            "did you mean 'Grouping_6'?",
        ),
        ("Code,term\n22298006,MI\n", "code", None, "did you mean 'Code'?"),
        (
            "111552007,Diabetes\n22298006,MI\n",
            "code",
            None,
            "the first line looks like data rather than a header",
        ),
        (
            "code,term,code\n22298006,MI,1\n",
            "code",
            None,
            "line 1: the header has 2 columns named 'code'",
        ),
        (
            "\n\ncode,term\n",
            "code",
            None,
            "there are no codes in column 'code'; the header is on line 3",
        ),
        ("code,term\n,no code\n  ,\n", "code", None, "there are no codes in column 'code'"),
        (
            "code,cat\n22298006,a\n111552007,b\n22298006,c\n",
            "code",
            "cat",
            "line 4: code '22298006' has category 'c' here but 'a' on line 2",
        ),
    ],
)
def test_bad_csv_files(
    tmp_path: Path, text: str, column: str, category_column: str | None, expected: str
) -> None:
    path = write_csv(tmp_path / "bad.csv", text)
    with pytest.raises(CodelistError) as caught:
        codelist_from_csv(path, column=column, category_column=category_column)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    assert expected in message


@pytest.mark.parametrize("text", ["", "\n", "\n  \n\n", "\ufeff", " , \n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = write_csv(tmp_path / "empty.csv", text)
    with pytest.raises(CodelistError, match="the file is empty") as caught:
        codelist_from_csv(path, column="code")
    assert str(caught.value).startswith(f"{path}: ")


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "latin1.csv", "code,term\n22298006,Ménière\n", encoding="latin-1")
    with pytest.raises(CodelistError, match=r"not UTF-8 text.*save it as 'CSV UTF-8'"):
        codelist_from_csv(path, column="code")


def test_malformed_csv_names_the_line(tmp_path: Path) -> None:
    # An unclosed quote swallows the rest of the file until the csv module gives up.
    path = write_csv(tmp_path / "quote.csv", 'code,term\n22298006,"MI\n' + "x" * 200_000)
    with pytest.raises(CodelistError, match=r"line \d+: this is not valid CSV"):
        codelist_from_csv(path, column="code")


def test_errors_are_value_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        codelist_from_csv(tmp_path / "nope.csv", column="code")


# ---------------------------------------------------------------------------------------------
# Converting a codelist to codes
# ---------------------------------------------------------------------------------------------


def test_invalid_code_is_reported_with_file_and_line(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "codelists.csv",
        "code,term\n22298006,MI\n\n12345,too short\n22298007,typo\n",
    )
    codelist = codelist_from_csv(path, column="code")
    with pytest.raises(CodelistError) as caught:
        codelist.as_codes(SNOMEDCTCode)
    assert str(caught.value).splitlines() == [
        f"{path}, line 4: '12345' is not a valid SNOMED CT code: "
        "it has 5 digits, but SNOMED CT codes have 6 to 18",
        f"{path}, line 5: '22298007' is not a valid SNOMED CT code: its check digit is wrong "
        "(expected 6); a digit has probably been mistyped, swapped or lost",
    ]


def test_many_invalid_codes_are_summarised() -> None:
    lines = ["code"] + [f"X{n:02}" for n in range(15)] + ["22298006"]
    codelist = codelist_from_csv_lines(lines, column="code", source="codelists/foo.csv")
    with pytest.raises(CodelistError) as caught:
        codelist.as_codes(SNOMEDCTCode)
    message_lines = str(caught.value).splitlines()
    assert message_lines[0].startswith("codelists/foo.csv, line 2: 'X00' is not a valid SNOMED")
    assert len(message_lines) == 11
    assert message_lines[-1] == "... and 5 more invalid SNOMED CT codes"


def test_wrong_column_or_system_gets_a_hint() -> None:
    codelist = codelist_from_csv_lines(
        ["code,bnf_code", "3897311000001109,040702020AAAAAA", "322299000,0407020Q0AAAAAA"],
        column="bnf_code",
        source="codelists/opioids.csv",
    )
    with pytest.raises(CodelistError, match="None of the 2 codes is a valid dm\\+d code"):
        codelist.as_codes(DMDCode)
    assert codelist.as_codes(BNFCode)[0] == BNFCode("040702020AAAAAA")


def test_as_codes_needs_a_code_type() -> None:
    codelist = Codelist(codes=("E11",))
    with pytest.raises(TypeError, match="needs a code type"):
        codelist.as_codes(str)  # type: ignore[type-var]
    with pytest.raises(TypeError, match="needs a code type"):
        codelist.as_codes(BaseCode)


def test_categories_without_a_category_column() -> None:
    codelist = codelist_from_csv_lines(["code", "E11"], column="code", source="codelists/x.csv")
    with pytest.raises(CodelistError, match=r"codelists/x\.csv was loaded without categories"):
        codelist.categories()


# ---------------------------------------------------------------------------------------------
# Codelist as a value
# ---------------------------------------------------------------------------------------------


def test_codelist_behaves_like_a_list_of_its_codes() -> None:
    codelist = codelist_from_csv_lines(["code", "E11", "J45"], column="code")
    assert list(codelist) == ["E11", "J45"]
    assert len(codelist) == 2
    assert "E11" in codelist
    assert ICD10Code("J45") in codelist
    assert "E12" not in codelist
    assert 11 not in codelist
    assert repr(codelist) == "<Codelist '<csv lines>': 2 codes>"


def test_codelist_is_immutable_and_hashable() -> None:
    codelist = Codelist(codes=["E11", "J45"], category_map=[("E11", "a"), ("J45", "b")])  # type: ignore[arg-type]
    assert codelist.codes == ("E11", "J45")
    assert codelist.category_map == (("E11", "a"), ("J45", "b"))
    assert hash(codelist) == hash(
        Codelist(codes=("E11", "J45"), category_map=codelist.category_map)
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        codelist.codes = ()  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(codelist)) == codelist
    assert repr(codelist) == "<Codelist '<codelist>': 2 codes, categorised>"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"codes": ("E11", "E11")}, ValueError, "must not repeat"),
        ({"codes": ("E11",), "lines": (1, 2)}, ValueError, "2 line numbers for 1 codes"),
        ({"codes": ("E11",), "category_map": (("J45", "a"),)}, ValueError, "one category per"),
        ({"codes": (11,)}, TypeError, "must be strings"),
    ],
)
def test_codelist_rejects_inconsistent_contents(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        Codelist(**kwargs)  # type: ignore[arg-type]
