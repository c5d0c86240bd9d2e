"""Clinical code types and codelists.

Each coding system is its own type, so that the query model can refuse to compare, say, a
SNOMED CT column with a list of ICD-10 codes: mixing systems never raises an error in SQL, it
just silently matches nothing, which is the worst way for a study to fail.

Codes are validated when they are made, because a mistyped code in a codelist also silently
matches nothing. Validation follows the formats ehrQL documents for the same systems; for
SNOMED CT and dm+d (whose identifiers are SNOMED CT identifiers) it also checks the partition
identifier and the Verhoeff check digit, which catches almost every single-digit typo and
every swap of two adjacent digits.

This module is imported by the query model, so it imports only the standard library.
"""

from __future__ import annotations

import csv
import difflib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import ClassVar, TypeVar

__all__ = [
    "CODE_TYPES",
    "MULTI_CODE_STRING_TYPES",
    "BNFCode",
    "BaseCode",
    "CTV3Code",
    "Codelist",
    "CodelistError",
    "DMDCode",
    "ICD10Code",
    "ICD10MultiCodeString",
    "InvalidCodeError",
    "MultiCodeString",
    "OPCS4Code",
    "OPCS4MultiCodeString",
    "SNOMEDCTCode",
    "UnknownCodeSystemError",
    "code_type_for",
    "codelist_from_csv",
    "codelist_from_csv_lines",
    "verhoeff_check_digit",
]


class InvalidCodeError(ValueError):
    """A value is not a well-formed code in the coding system it was given as."""


class CodelistError(ValueError):
    """A codelist file could not be read, or holds something that is not a valid code.

    The message names the file, and the line where there is one, so the researcher can go
    straight to the problem.
    """


class UnknownCodeSystemError(ValueError):
    """A coding system name (such as one in a serialised query) is not one fedsafe knows."""


# ---------------------------------------------------------------------------------------------
# Verhoeff check digit
#
# SNOMED CT identifiers end in a check digit computed with Verhoeff's dihedral (D5) scheme.
# Rather than transcribing the usual lookup tables, we build them from their definition, so
# that the tables can be checked against the mathematics rather than against a copy.
# ---------------------------------------------------------------------------------------------


def _d5_compose(j: int, k: int) -> int:
    """Compose two elements of the dihedral group D5.

    Elements 0-4 are the rotations and 5-9 the reflections of a regular pentagon. Verhoeff's
    scheme needs a non-commutative group so that swapping two adjacent digits changes the sum.
    """
    if j < 5:
        return (j + k) % 5 if k < 5 else 5 + (j + k) % 5
    return 5 + (j - k) % 5 if k < 5 else (j - k) % 5


_D5 = tuple(tuple(_d5_compose(j, k) for k in range(10)) for j in range(10))
_D5_INVERSE = tuple(next(k for k in range(10) if _D5[j][k] == 0) for j in range(10))

# Each digit is scrambled by a permutation that depends on its position (modulo 8): position i
# uses the permutation below applied i times. This is what lets the check see transpositions.
_PERMUTATION = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)


def _permutation_powers() -> tuple[tuple[int, ...], ...]:
    powers = [tuple(range(10))]
    for _ in range(7):
        powers.append(tuple(_PERMUTATION[x] for x in powers[-1]))
    return tuple(powers)


_POSITION_PERMUTATIONS = _permutation_powers()


def verhoeff_check_digit(digits: str) -> str:
    """Return the Verhoeff check digit that should follow ``digits``.

    Public so that dummy-data generators and tests can make valid SNOMED CT identifiers.
    """
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"a Verhoeff check digit needs a string of digits 0-9, not {digits!r}")
    check = 0
    # Positions count from the right, and position 0 is where the check digit will go.
    for position, digit in enumerate(reversed(digits), start=1):
        check = _D5[check][_POSITION_PERMUTATIONS[position % 8][int(digit)]]
    return str(_D5_INVERSE[check])


# ---------------------------------------------------------------------------------------------
# Code types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class BaseCode:
    """A code in one coding system: an immutable, validated string.

    Equality and ordering are by value, and only between codes of the same type, so that a
    SNOMED CT code is never mistaken for a dm+d code with the same digits.
    """

    value: str

    system_id: ClassVar[str]
    """The stable name of the coding system, used in serialised queries (``"snomedct"``)."""
    system_name: ClassVar[str]
    """The name a researcher knows the coding system by (``"SNOMED CT"``)."""
    example: ClassVar[str]
    """A valid code, shown in error messages so the expected shape is obvious."""

    def __post_init__(self) -> None:
        if type(self) is BaseCode:
            raise TypeError(
                "BaseCode is the shared base of the code types; use one of them instead, "
                f"such as {', '.join(cls.__name__ for cls in CODE_TYPES.values())}"
            )
        if not isinstance(self.value, str):
            raise InvalidCodeError(
                f"{self.value!r} is not a valid {self.system_name} code: codes must be given as "
                f"text, e.g. {type(self).__name__}({self.example!r}), not as "
                f"{type(self.value).__name__}"
            )
        problem = self.find_problem(self.value)
        if problem is not None:
            raise InvalidCodeError(
                f"{self.value!r} is not a valid {self.system_name} code: {problem}"
            )

    def __str__(self) -> str:
        return self.value

    @classmethod
    def find_problem(cls, value: str) -> str | None:
        """Say what is wrong with ``value`` as a code of this type, or ``None`` if it is valid.

        Returns the reason rather than raising so that callers checking a whole codelist can
        report every bad code at once.
        """
        if value == "":
            return "it is empty"
        if value != value.strip():
            return "it has spaces or other whitespace around it"
        return cls._find_format_problem(value)

    @classmethod
    def is_valid(cls, value: str) -> bool:
        """Whether ``value`` is a valid code of this type."""
        return isinstance(value, str) and cls.find_problem(value) is None

    @classmethod
    def _find_format_problem(cls, value: str) -> str | None:
        raise NotImplementedError


def _pattern_problem(
    value: str,
    pattern: re.Pattern[str],
    description: str,
    *,
    allow_upper: bool = True,
) -> str | None:
    """Check ``value`` against a regular expression, suggesting a fix for common slips.

    Codes are often copied from published lists with a dot in them (``E11.9``) or in lower
    case; if undoing either would give a valid code, say so rather than just rejecting it.
    """
    if pattern.fullmatch(value):
        return None
    candidates = [value.replace(".", "")]
    if allow_upper:
        candidates += [value.upper(), value.upper().replace(".", "")]
    for candidate in candidates:
        if candidate != value and pattern.fullmatch(candidate):
            return f"{description}; did you mean {candidate!r}?"
    return description


# Partition identifiers (2nd and 3rd digits from the right of an SCTID) currently defined by the
# SNOMED CT release format specification, section 6.5. A first digit of 1 means "long format":
# the seven digits before the partition are the namespace of the extension that issued it.
_SCTID_PARTITIONS = {
    "00": "concept",
    "01": "description",
    "02": "relationship",
    "10": "concept (extension)",
    "11": "description (extension)",
    "12": "relationship (extension)",
    "16": "postcoordinated expression (extension)",
}
_SCIENTIFIC_NOTATION = re.compile(r"[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+")
_FLOAT_WITH_ZERO_FRACTION = re.compile(r"[0-9]+\.0+")


def _sctid_problem(value: str, system_name: str) -> str | None:
    """Check a SNOMED CT identifier (SCTID) as the SNOMED CT specification defines it.

    Checks, in order: only digits 0-9; no leading zero; 6 to 18 digits; a known partition
    identifier; a 7-digit namespace present when the partition says there is one; and the
    Verhoeff check digit. Structural problems come before the check digit so we never suggest
    "fixing" the last digit of something that could not be an SCTID anyway.
    """
    if not (value.isascii() and value.isdigit()):
        if _SCIENTIFIC_NOTATION.fullmatch(value):
            return (
                "it is in scientific notation, which usually means a spreadsheet has rewritten "
                "it and lost digits; export the codelist again without opening it in a "
                "spreadsheet"
            )
        if _FLOAT_WITH_ZERO_FRACTION.fullmatch(value):
            return (
                f"{system_name} codes are whole numbers; did you mean {value.split('.')[0]!r}? "
                "(a spreadsheet may have added the decimal point)"
            )
        return f"{system_name} codes contain only the digits 0-9"
    if value[0] == "0":
        return f"it starts with 0, and {system_name} codes never do"
    if not 6 <= len(value) <= 18:
        return f"it has {len(value)} digits, but {system_name} codes have 6 to 18"
    partition = value[-3:-1]
    if partition not in _SCTID_PARTITIONS:
        known = ", ".join(sorted(_SCTID_PARTITIONS))
        return (
            f"its partition identifier (the 2nd and 3rd digits from the end) is {partition!r}, "
            f"which is not one SNOMED CT uses ({known}); it may be mistyped or not a "
            f"{system_name} code at all"
        )
    if partition[0] == "1" and len(value) < 11:
        return (
            f"its partition identifier {partition!r} means it should include a 7-digit "
            "namespace, so it needs at least 11 digits"
        )
    expected = verhoeff_check_digit(value[:-1])
    if value[-1] != expected:
        return (
            f"its check digit is wrong (expected {expected}); a digit has probably been "
            "mistyped, swapped or lost"
        )
    return None


class SNOMEDCTCode(BaseCode):
    """A SNOMED CT identifier: the coding system of most GP and hospital clinical records."""

    system_id = "snomedct"
    system_name = "SNOMED CT"
    example = "22298006"

    @classmethod
    def _find_format_problem(cls, value: str) -> str | None:
        return _sctid_problem(value, cls.system_name)


class DMDCode(BaseCode):
    """A Dictionary of Medicines and Devices (dm+d) identifier, for prescribed medicines.

    Every dm+d identifier is a SNOMED CT identifier (NHSBSA: "All unique identifiers used in
    dm+d are SNOMED CT codes"), mostly in the UK drug extension's namespace, so it gets the same
    checks, check digit included. All 3,007 codes in the real dm+d codelists used by the tests
    pass them.
    """

    system_id = "dmd"
    system_name = "dm+d"
    example = "3897311000001109"

    @classmethod
    def _find_format_problem(cls, value: str) -> str | None:
        return _sctid_problem(value, cls.system_name)


class ICD10Code(BaseCode):
    """An ICD-10 diagnosis code, as used in hospital (HES/SUS) and death records.

    A capital letter, two digits and optionally a third digit; hospital data pads
    three-character codes to four with an ``X``. Written without the dot, as in the data.
    """

    system_id = "icd10"
    system_name = "ICD-10"
    example = "E119"

    _pattern: ClassVar[re.Pattern[str]] = re.compile(r"[A-Z][0-9]{2}[0-9X]?")

    @classmethod
    def _find_format_problem(cls, value: str) -> str | None:
        return _pattern_problem(
            value,
            cls._pattern,
            "ICD-10 codes are a capital letter and two digits, optionally followed by a digit "
            "or X, with no dot (e.g. 'E11' or 'E119')",
        )


class CTV3Code(BaseCode):
    """A CTV3 (Read version 3) code, as in older GP records.

    Exactly five characters: letters or digits, with codes shorter than five padded on the
    right with dots (``G30..``), at least two real characters. Case matters in CTV3, so no
    change of case is ever suggested.
    """

    system_id = "ctv3"
    system_name = "CTV3"
    example = "G30.."

    _pattern: ClassVar[re.Pattern[str]] = re.compile(
        r"""
        [0-9A-Za-z]{2}  # at least two real characters
        (?: [0-9A-Za-z]{3} | [0-9A-Za-z]{2}\. | [0-9A-Za-z]\.\. | \.\.\. )  # dots only as padding
        """,
        re.VERBOSE,
    )

    @classmethod
    def _find_format_problem(cls, value: str) -> str | None:
        if cls._pattern.fullmatch(value):
            return None
        if len(value) != 5:
            return (
                f"it has {len(value)} characters, but CTV3 codes have exactly 5 (shorter codes "
                "are padded with dots, e.g. 'G30..')"
            )
        return (
            "CTV3 codes are 5 letters or digits, where only trailing characters may be dots "
            "and at least the first two are not (e.g. 'XE0Uh' or 'G30..')"
        )


class OPCS4Code(BaseCode):
    """An OPCS-4 procedure code, as in hospital records.

    A capital letter other than I followed by two or three digits, written without the dot
    (``K401`` rather than ``K40.1``), as the codes appear in the data and in OpenCodelists.
    """

    system_id = "opcs4"
    system_name = "OPCS-4"
    example = "K401"

    _pattern: ClassVar[re.Pattern[str]] = re.compile(r"[A-HJ-Z][0-9]{2,3}")

    @classmethod
    def _find_format_problem(cls, value: str) -> str | None:
        return _pattern_problem(
            value,
            cls._pattern,
            "OPCS-4 codes are a capital letter (not I) and two or three digits, with no dot "
            "(e.g. 'K40' or 'K401')",
        )


class BNFCode(BaseCode):
    """A BNF code for a prescribed product, in the 'pseudo-BNF' form used in English data.

    Either 15 characters for a drug presentation: 7 digits of chapter, section, paragraph and
    sub-paragraph (chapters 01-19), 2 characters of chemical substance, then three
    letter-then-letter-or-digit pairs for product, strength-formulation and generic equivalent
    (``040702020AAAAAA``); or 11 digits for an appliance in chapters 20-23.
    """

    system_id = "bnf"
    system_name = "BNF"
    example = "040702020AAAAAA"

    _pattern: ClassVar[re.Pattern[str]] = re.compile(
        r"[01][0-9]{6}[0-9A-Z]{2}(?:[A-Z][0-9A-Z]){3}"  # a drug presentation
        r"|2[0-3][0-9]{9}"  # an appliance
    )

    @classmethod
    def _find_format_problem(cls, value: str) -> str | None:
        return _pattern_problem(
            value,
            cls._pattern,
            "BNF codes are either 15 characters for a drug (7 digits, 2 letters or digits, "
            "then 3 pairs of a capital letter and a letter or digit, e.g. '040702020AAAAAA') "
            "or 11 digits starting 20 to 23 for an appliance",
        )


class MultiCodeString(BaseCode):
    """Many codes of one system in one text value, as hospital records keep a spell's diagnoses.

    ehrQL documents these fields (``apcs.all_diagnoses``, ``apcs.all_procedures``) as codes
    without dots, separated by commas within an episode and by ``||`` between episodes, with
    spaces around separators allowed (``||E119 ,J849 ||I801``). They are queried by substring
    (``contains``), so a value is only checked for holding no character a code or separator
    cannot contain; the code type of the parts is ``code_type``.
    """

    code_type: ClassVar[type[BaseCode]]

    _allowed: ClassVar[re.Pattern[str]] = re.compile(r"[A-Za-z0-9|, ]*")

    @classmethod
    def find_problem(cls, value: str) -> str | None:
        # Spaces around separators are part of the documented format, so unlike single codes
        # surrounding whitespace is not an error here.
        if cls._allowed.fullmatch(value):
            return None
        return (
            f"{cls.system_name} values hold {cls.code_type.system_name} codes without dots, "
            "separated by ',' and '||' (e.g. '||E119 ,J849 ||I801')"
        )

    def codes(self) -> tuple[str, ...]:
        """The codes in the value, in order, without separators or spaces."""
        parts = re.split(r"\|\||,", self.value)
        return tuple(part.strip() for part in parts if part.strip())


class ICD10MultiCodeString(MultiCodeString):
    """ICD-10 codes of every episode of a hospital spell, in one value."""

    system_id = "icd10_multi"
    system_name = "multiple ICD-10 codes"
    example = "||E119 ,J849 ||I801"
    code_type = ICD10Code


class OPCS4MultiCodeString(MultiCodeString):
    """OPCS-4 procedure codes of every episode of a hospital spell, in one value."""

    system_id = "opcs4_multi"
    system_name = "multiple OPCS-4 codes"
    example = "||E851,T124||Y532"
    code_type = OPCS4Code


MULTI_CODE_STRING_TYPES: dict[str, type[MultiCodeString]] = {
    cls.system_id: cls for cls in (ICD10MultiCodeString, OPCS4MultiCodeString)
}
"""Column types holding several codes as text; not coding systems a codelist can be in."""


CODE_TYPES: dict[str, type[BaseCode]] = {
    cls.system_id: cls for cls in (SNOMEDCTCode, DMDCode, ICD10Code, CTV3Code, OPCS4Code, BNFCode)
}
"""Every code type, keyed by its ``system_id``: the names used in serialised queries."""


def code_type_for(system_id: str) -> type[BaseCode]:
    """Return the code type for a coding system name such as ``"snomedct"``."""
    try:
        return CODE_TYPES[system_id]
    except (KeyError, TypeError):
        pass
    known = ", ".join(repr(name) for name in sorted(CODE_TYPES))
    message = f"unknown coding system {system_id!r}; the known systems are {known}"
    if isinstance(system_id, str):
        close = difflib.get_close_matches(system_id.lower(), CODE_TYPES, n=1, cutoff=0.5)
        if close:
            message += f"; did you mean {close[0]!r}?"
    raise UnknownCodeSystemError(message)


# ---------------------------------------------------------------------------------------------
# Codelists
# ---------------------------------------------------------------------------------------------

_MAX_REPORTED_INVALID_CODES = 10

CodeT = TypeVar("CodeT", bound=BaseCode)


@dataclass(frozen=True)
class Codelist:
    """The codes read from a codelist file, remembering where each one came from.

    Codes are kept as the raw strings from the file (stripped, de-duplicated, in file order)
    rather than as code objects, because a CSV does not say which coding system it uses: that
    is only known when the codelist meets a column. :meth:`as_codes` converts them then, and
    uses ``source`` and ``lines`` to point the researcher at the exact line of a bad code.

    It iterates, sizes and tests membership like a list of its codes, so it can be passed
    wherever a list of codes is accepted.
    """

    codes: tuple[str, ...]
    category_map: tuple[tuple[str, str], ...] | None = None
    source: str = "<codelist>"
    lines: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        # Accept lists for convenience, but store tuples so the codelist stays hashable and
        # can sit inside an immutable query.
        object.__setattr__(self, "codes", tuple(self.codes))
        object.__setattr__(self, "lines", tuple(self.lines))
        if self.category_map is not None:
            object.__setattr__(
                self, "category_map", tuple((code, cat) for code, cat in self.category_map)
            )
        for code in self.codes:
            if not isinstance(code, str):
                raise TypeError(f"codelist codes must be strings, not {type(code).__name__}")
        if len(set(self.codes)) != len(self.codes):
            raise ValueError(f"{self.source}: codelist codes must not repeat")
        if self.lines and len(self.lines) != len(self.codes):
            raise ValueError(
                f"{self.source}: got {len(self.lines)} line numbers for {len(self.codes)} codes"
            )
        if self.category_map is not None and tuple(c for c, _ in self.category_map) != self.codes:
            raise ValueError(f"{self.source}: category_map must give one category per code")

    def __repr__(self) -> str:
        # The default would print thousands of codes into a traceback.
        categorised = ", categorised" if self.category_map is not None else ""
        return f"<Codelist {self.source!r}: {len(self.codes)} codes{categorised}>"

    def __iter__(self) -> Iterator[str]:
        return iter(self.codes)

    def __len__(self) -> int:
        return len(self.codes)

    def __contains__(self, item: object) -> bool:
        """Whether a raw code string, or a code object with that value, is in the codelist."""
        if isinstance(item, BaseCode):
            item = item.value
        return item in self._code_set

    @cached_property
    def _code_set(self) -> frozenset[str]:
        return frozenset(self.codes)

    def _where(self, index: int) -> str:
        if self.lines:
            return f"{self.source}, line {self.lines[index]}"
        return self.source

    def as_codes(self, code_type: type[CodeT]) -> tuple[CodeT, ...]:
        """Convert every code to ``code_type``, reporting each invalid code with its line.

        All invalid codes are reported (up to a limit) in one error, so a researcher fixing a
        file is not sent round the loop once per bad line.
        """
        if not (
            isinstance(code_type, type)
            and issubclass(code_type, BaseCode)
            and code_type is not BaseCode
        ):
            raise TypeError(f"as_codes() needs a code type such as SNOMEDCTCode, not {code_type!r}")
        converted: list[CodeT] = []
        problems: list[str] = []
        for index, raw in enumerate(self.codes):
            try:
                converted.append(code_type(raw))
            except InvalidCodeError as error:
                problems.append(f"{self._where(index)}: {error}")
        if problems:
            shown = problems[:_MAX_REPORTED_INVALID_CODES]
            hidden = len(problems) - len(shown)
            if hidden:
                shown.append(f"... and {hidden} more invalid {code_type.system_name} codes")
            if len(problems) == len(self.codes) > 1:
                # Every code failing points at the wrong column or coding system, not typos.
                shown.append(
                    f"None of the {len(self.codes)} codes is a valid {code_type.system_name} "
                    f"code: check that {self.source} is a {code_type.system_name} codelist and "
                    "that column= names its code column"
                )
            raise CodelistError("\n".join(shown))
        return tuple(converted)

    def categories(self) -> dict[str, str]:
        """Map each raw code to its category, for use with ``to_category()``."""
        if self.category_map is None:
            raise CodelistError(
                f"{self.source} was loaded without categories; pass category_column= "
                "(the name of the column holding each code's category) when loading it"
            )
        return dict(self.category_map)


def codelist_from_csv(
    filename: str | os.PathLike[str],
    *,
    column: str,
    category_column: str | None = None,
) -> Codelist:
    """Read a codelist from a CSV file, as downloaded from OpenCodelists.

    ``filename`` is a path relative to the current directory (use forward slashes).
    ``column`` names the column holding the codes; other columns are ignored.
    ``category_column``, if given, names a column holding each code's category, making a
    categorised codelist for ``to_category()``.

    Blank code cells are skipped, whitespace around codes is removed and repeated codes are
    kept once. Codes are checked against a coding system only when the codelist is used with
    a column, because the file itself does not say which system it uses.
    """
    source = os.fspath(filename)
    path = Path(source)
    if not path.exists():
        message = f"{source}: there is no codelist file here (looked for {path.absolute()})"
        # A backslash, or a control character left by an escape like "\t" in a Windows-style
        # path written as an ordinary string, shows up as a backslash in the repr.
        if "\\" in repr(source):
            message += "; use forward slashes (/) rather than backslashes (\\) in file paths"
        raise CodelistError(message)
    if path.is_dir():
        raise CodelistError(f"{source}: this is a folder; give the path of a CSV file inside it")
    try:
        # utf-8-sig removes the byte-order mark that Excel writes at the start of CSV files.
        with path.open(encoding="utf-8-sig", newline="") as file:
            return _read_codelist(
                file, column=column, category_column=category_column, source=source
            )
    except UnicodeDecodeError as error:
        raise CodelistError(
            f"{source}: the file is not UTF-8 text (byte {error.object[error.start]:#04x} cannot "
            "be read); save it as 'CSV UTF-8'"
        ) from error
    except OSError as error:
        raise CodelistError(f"{source}: could not be read: {error.strerror or error}") from error


def codelist_from_csv_lines(
    lines: Iterable[str] | str,
    *,
    column: str,
    category_column: str | None = None,
    source: str = "<csv lines>",
) -> Codelist:
    """Read a codelist from CSV text already in memory: a string or an iterable of lines.

    Behaves exactly like :func:`codelist_from_csv`; ``source`` is what error messages call
    the text in place of a file name.
    """
    if isinstance(lines, str):
        lines = lines.splitlines(keepends=True)
    return _read_codelist(lines, column=column, category_column=category_column, source=source)


def _without_byte_order_mark(lines: Iterable[str]) -> Iterator[str]:
    iterator = iter(lines)
    for first in iterator:
        yield first.removeprefix("\ufeff")
        break
    yield from iterator


def _read_codelist(
    lines: Iterable[str],
    *,
    column: str,
    category_column: str | None,
    source: str,
) -> Codelist:
    reader = csv.reader(_without_byte_order_mark(lines))
    line_before_row = 0
    try:
        header: list[str] | None = None
        header_line = 0
        for row in reader:
            row_line, line_before_row = line_before_row + 1, reader.line_num
            if any(cell.strip() for cell in row):  # skip blank lines before the header
                header, header_line = [cell.strip() for cell in row], row_line
                break
        if header is None:
            raise CodelistError(
                f"{source}: the file is empty; a codelist CSV needs a header line naming its "
                f"columns (such as {column!r}) followed by one code per line"
            )
        code_index = _column_index(header, column, "column", source, header_line)
        category_index = (
            None
            if category_column is None
            else _column_index(header, category_column, "category_column", source, header_line)
        )

        codes: list[str] = []
        code_lines: list[int] = []
        categories: dict[str, str] = {}
        first_line: dict[str, int] = {}
        for row in reader:
            row_line, line_before_row = line_before_row + 1, reader.line_num
            code = row[code_index].strip() if code_index < len(row) else ""
            if not code:
                continue
            category = ""
            if category_index is not None and category_index < len(row):
                category = row[category_index].strip()
            if code in first_line:
                if category_index is not None and categories[code] != category:
                    raise CodelistError(
                        f"{source}, line {row_line}: code {code!r} has category {category!r} "
                        f"here but {categories[code]!r} on line {first_line[code]}; a code can "
                        "have only one category"
                    )
                continue
            first_line[code] = row_line
            codes.append(code)
            code_lines.append(row_line)
            categories[code] = category
    except csv.Error as error:
        raise CodelistError(
            f"{source}, line {reader.line_num}: this is not valid CSV ({error}); an unclosed "
            "quote mark is a common cause"
        ) from error

    if not codes:
        raise CodelistError(
            f"{source}: there are no codes in column {column!r}; the header is on line "
            f"{header_line} but every {column!r} cell below it is blank"
        )
    return Codelist(
        codes=tuple(codes),
        category_map=(
            None if category_index is None else tuple((code, categories[code]) for code in codes)
        ),
        source=source,
        lines=tuple(code_lines),
    )


def _column_index(header: list[str], name: str, argument: str, source: str, line: int) -> int:
    """Find the named column, explaining what is there instead if it is missing."""
    positions = [index for index, heading in enumerate(header) if heading == name]
    if len(positions) == 1:
        return positions[0]
    if positions:
        raise CodelistError(
            f"{source}, line {line}: the header has {len(positions)} columns named {name!r}; "
            "rename all but one so it is clear which to read"
        )
    columns = ", ".join(repr(heading) for heading in header)
    message = (
        f"{source}, line {line}: there is no column {name!r} (given as {argument}=); "
        f"the columns are {columns}"
    )
    close = difflib.get_close_matches(name, header, n=1, cutoff=0.6) or [
        heading for heading in header if heading.lower() == name.lower()
    ]
    if close:
        message += f"; did you mean {close[0]!r}?"
    elif any(heading.isdigit() for heading in header):
        message += (
            "; the first line looks like data rather than a header: add a header line naming "
            "the columns"
        )
    raise CodelistError(message)
