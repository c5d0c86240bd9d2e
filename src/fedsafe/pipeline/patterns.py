"""Output patterns: which are allowed, whether two can match the same file, what they match.

An output pattern is a path relative to the workspace, with shell wildcards: ``*`` and ``?``
within one path segment, ``[...]`` for a set of characters, and ``**`` for any number of
segments. Patterns decide which files an action keeps and at which privacy level, so they
are checked strictly:

* they stay inside the workspace (no absolute paths, no ``..``, no backslashes), out of
  ``metadata/``, which belongs to fedsafe, and off ``project.yaml`` and ``codelists/``, which
  are checked inputs that no action may rewrite;
* no two patterns may match the same file, because a file must have exactly one owner and one
  privacy level. Whether two wildcard patterns can match a common path is decided exactly
  (:func:`patterns_overlap`), not guessed from their text.
"""

from __future__ import annotations

import fnmatch
import re
from functools import cache
from pathlib import PurePosixPath

__all__ = [
    "METADATA_DIR",
    "RELEASABLE_SUFFIXES",
    "matches",
    "pattern_problem",
    "patterns_overlap",
    "unreleasable_suffix_problem",
]

METADATA_DIR = "metadata"
CODELISTS_DIR = "codelists"
PROJECT_FILE = "project.yaml"

# File types an output checker can review and release: text tables and reports, and images.
# Anything else (data files such as .arrow, .parquet, .rds, .dta, pickles, databases) can hold
# patient-level data that no reviewer can read, so it may never be moderately_sensitive.
RELEASABLE_SUFFIXES: tuple[str, ...] = (
    ".csv",
    ".tsv",
    ".txt",
    ".md",
    ".html",
    ".json",
    ".log",
    ".png",
    ".jpg",
    ".jpeg",
    ".svg",
    ".pdf",
)

_WILDCARD = re.compile(r"[*?\[]")


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` may not be an output pattern, or None if it may."""
    if not pattern or not pattern.strip():
        return "an output pattern must not be empty"
    if pattern != pattern.strip():
        return "an output pattern must not start or end with spaces"
    if "\\" in pattern:
        return "use forward slashes (/) in output patterns, not backslashes"
    if pattern.startswith("/") or re.match(r"^[A-Za-z]:", pattern):
        return "an output pattern must be relative to the workspace, not an absolute path"
    parts = pattern.split("/")
    if ".." in parts:
        return "an output pattern must not contain '..': outputs stay inside the workspace"
    if any(part in ("", ".") for part in parts):
        return "an output pattern must not contain empty or '.' path segments"
    if fnmatch.fnmatchcase(METADATA_DIR, parts[0]) or parts[0] == "**":
        return (
            f"an output pattern must not point into {METADATA_DIR}/, where fedsafe keeps logs "
            "and the manifest"
        )
    if len(parts) > 1 and fnmatch.fnmatchcase(CODELISTS_DIR, parts[0]):
        return (
            f"an output pattern must not point into {CODELISTS_DIR}/: codelists are checked "
            "inputs, and an action must not rewrite them"
        )
    if len(parts) == 1 and fnmatch.fnmatchcase(PROJECT_FILE, parts[0]):
        return f"an output pattern must not match {PROJECT_FILE}: an action cannot rewrite it"
    if any("**" in part and part != "**" for part in parts):
        return "'**' must be a whole path segment (as in 'output/**/*.csv')"
    if parts[-1] == "**":
        return "an output pattern must end in a file name pattern, not '**'"
    return None


def unreleasable_suffix_problem(pattern: str) -> str | None:
    """Why files matching ``pattern`` could never be released, or None if they could be."""
    name = pattern.rsplit("/", 1)[-1]
    suffix = PurePosixPath(name).suffix.lower()
    allowed = ", ".join(RELEASABLE_SUFFIXES)
    if not suffix or _WILDCARD.search(suffix):
        return (
            "moderately_sensitive outputs must name a file type that can be released "
            f"(the pattern must end in one of {allowed}), so a reviewer knows what to expect"
        )
    if suffix not in RELEASABLE_SUFFIXES:
        return (
            f"{suffix} files can never be released, so they cannot be moderately_sensitive; "
            f"declare them highly_sensitive, or write one of {allowed}"
        )
    return None


def matches(pattern: str, path: str) -> bool:
    """Whether the workspace-relative ``path`` (with forward slashes) matches ``pattern``."""
    return _segments_match(tuple(pattern.split("/")), tuple(path.split("/")))


def _segments_match(pattern: tuple[str, ...], path: tuple[str, ...]) -> bool:
    if not pattern:
        return not path
    if pattern[0] == "**":
        return any(_segments_match(pattern[1:], path[i:]) for i in range(len(path) + 1))
    return (
        bool(path)
        and fnmatch.fnmatchcase(path[0], pattern[0])
        and _segments_match(pattern[1:], path[1:])
    )


def patterns_overlap(first: str, second: str) -> bool:
    """Whether some path matches both patterns.

    Decided exactly for ``*``, ``?`` and ``**``; a ``[...]`` set is treated as possibly
    matching any one character, so two patterns that differ only inside sets are reported as
    overlapping. Over-reporting is the safe side: the researcher renames a pattern, whereas
    under-reporting would give one file two owners.
    """
    return _segments_overlap(tuple(first.split("/")), tuple(second.split("/")))


@cache
def _segments_overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    if not a or not b:
        return all(s == "**" for s in a) and all(s == "**" for s in b)
    if a[0] == "**":
        return _segments_overlap(a[1:], b) or _segments_overlap(a, b[1:])
    if b[0] == "**":
        return _segments_overlap(a, b[1:]) or _segments_overlap(a[1:], b)
    return _names_overlap(_tokens(a[0]), _tokens(b[0])) and _segments_overlap(a[1:], b[1:])


def _tokens(name: str) -> tuple[str, ...]:
    """A file-name pattern as tokens: ``*``, ``?`` (any one character, sets included) or a
    literal character."""
    tokens: list[str] = []
    i = 0
    while i < len(name):
        char = name[i]
        if char == "[":
            end = name.find("]", i + 2)
            if end != -1:
                tokens.append("?")
                i = end + 1
                continue
        tokens.append(char)
        i += 1
    return tuple(tokens)


@cache
def _names_overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether some file name matches both token sequences (classic wildcard intersection)."""
    if not a:
        return all(t == "*" for t in b)
    if not b:
        return all(t == "*" for t in a)
    if a[0] == "*":
        # The star matches nothing more, or swallows b's first token (whatever it stands for).
        return _names_overlap(a[1:], b) or _names_overlap(a, b[1:])
    if b[0] == "*":
        return _names_overlap(a, b[1:]) or _names_overlap(a[1:], b)
    if a[0] == "?" or b[0] == "?" or a[0] == b[0]:
        return _names_overlap(a[1:], b[1:])
    return False
