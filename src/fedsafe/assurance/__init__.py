"""Definition tests: hand-made patients run through the real engine (ehrQL's ``test_data``).

See ``docs/debugging.md``. The entry points are :func:`test_definition` (returns a report) and
:func:`assert_definition_tests_pass` (for a project's pytest suite).
"""

from fedsafe.assurance.api import assert_definition_tests_pass, test_definition
from fedsafe.assurance.cases import PatientCase, TestDataError, parse_test_data
from fedsafe.assurance.run import DefinitionTestReport, run_definition_tests

__all__ = [
    "DefinitionTestReport",
    "PatientCase",
    "TestDataError",
    "assert_definition_tests_pass",
    "parse_test_data",
    "run_definition_tests",
    "test_definition",
]
