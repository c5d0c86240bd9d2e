"""Testing a dataset definition file: find its test patients, run them, report.

Test patients come from the definition's ``test_data`` variable (ehrQL's documented form,
returned as data from the sandboxed child) and/or a YAML or JSON file beside the definition
named ``<definition>.test_data.yaml`` (or ``.yml``/``.json``), which is handy when the patients
are many or shared. A patient may be given in one place only.

:func:`assert_definition_tests_pass` is for a project's own pytest suite, so definition tests
run in CI with everything else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from fedsafe.assurance.cases import TestDataError, parse_test_data
from fedsafe.assurance.run import DefinitionTestReport, run_definition_tests
from fedsafe.loader import load_dataset_definition

__all__ = [
    "TEST_DATA_SUFFIXES",
    "assert_definition_tests_pass",
    "find_test_data_file",
    "test_definition",
]

TEST_DATA_SUFFIXES = (".test_data.yaml", ".test_data.yml", ".test_data.json")


def find_test_data_file(definition: Path) -> Path | None:
    """The test data file beside ``definition``, if there is one (more than one is an error)."""
    found = [
        definition.with_name(definition.stem + suffix)
        for suffix in TEST_DATA_SUFFIXES
        if definition.with_name(definition.stem + suffix).is_file()
    ]
    if len(found) > 1:
        raise TestDataError(
            f"{definition}: more than one test data file beside it "
            f"({', '.join(p.name for p in found)}); keep one"
        )
    return found[0] if found else None


def test_definition(
    definition: Path | str,
    *,
    test_data_file: Path | str | None = None,
    project_dir: Path | None = None,
    params: Mapping[str, str] | None = None,
) -> DefinitionTestReport:
    """Load ``definition`` (sandboxed), run it on its test patients and compare."""
    definition = Path(definition)
    loaded = load_dataset_definition(definition, params, project_dir=project_dir)
    file = Path(test_data_file) if test_data_file else find_test_data_file(definition)
    sources: dict[str, Mapping[Any, Any]] = {}
    if loaded.test_data_error is not None:
        raise TestDataError(f"{definition}: {loaded.test_data_error}")
    if loaded.test_data is not None:
        sources[f"{definition.name} test_data"] = loaded.test_data
    if file is not None:
        sources[str(file)] = _read_file(file)
    if not sources:
        raise TestDataError(
            f"{definition}: no test patients: add a `test_data = {{...}}` dict to the definition "
            f"or a {definition.stem}{TEST_DATA_SUFFIXES[0]} file beside it (see docs/debugging.md)"
        )
    cases = []
    seen: dict[int, str] = {}
    for source, data in sources.items():
        for case in parse_test_data(data, source=source):
            if case.patient_id in seen:
                raise TestDataError(
                    f"{source}: patient {case.patient_id} is also given in {seen[case.patient_id]}"
                )
            seen[case.patient_id] = source
            cases.append(case)
    cases.sort(key=lambda c: c.patient_id)
    return run_definition_tests(loaded.dataset, cases, source=str(definition))


# Not a pytest test, despite its name; this stops pytest collecting it where it is imported.
test_definition.__test__ = False  # type: ignore[attr-defined]


def assert_definition_tests_pass(
    definition: Path | str, *, project_dir: Path | None = None, **kwargs: Any
) -> DefinitionTestReport:
    """For a project's pytest suite: raise AssertionError with the full report on failure."""
    report = test_definition(definition, project_dir=project_dir, **kwargs)
    if not report.passed:
        raise AssertionError(report.text())
    return report


def _read_file(path: Path) -> Mapping[Any, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TestDataError(f"{path}: cannot read the test data file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise TestDataError(f"{path}: not UTF-8 text") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise TestDataError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise TestDataError(f"{where}: {problem}") from None
    if not isinstance(data, Mapping):
        raise TestDataError(f"{path}: expected a mapping of patient id -> tables at the top level")
    return data
