"""Safe error summaries, attacked: code that tries to smuggle a value out through an error."""

import runpy
from pathlib import Path
from textwrap import dedent

import pytest

from fedsafe.failures import record_failure, summarise_failure
from fedsafe.loader import DefinitionLoadError, load_dataset_definition

SECRET = "943-476-5919 Jane Doe"  # what a patient's record might hold


def fail(project: Path, code: str, name: str = "analysis/model.py"):
    """Run ``code`` as the researcher's script in ``project`` and catch what it raises."""
    path = project / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(code))
    with pytest.raises(BaseException) as caught:
        runpy.run_path(str(path), init_globals={"SECRET": SECRET}, run_name="__main__")
    return caught.value


def assert_safe(record, project: Path) -> None:
    shown = record.summary.text() + repr(record.summary.to_dict())
    for fragment in (SECRET, "943", "Jane", str(project), "/tmp"):
        assert fragment not in shown, (fragment, shown)


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    return root


def test_a_value_in_the_message_does_not_come_out(project):
    exc = fail(project, "x = 1\nraise ValueError(str(SECRET))\n")
    record = record_failure(exc, project)
    assert_safe(record, project)
    assert record.summary.to_dict() == {
        "error_class": "ValueError",
        "message": "a value was not valid for the operation",
        "file": "analysis/model.py",
        "line": 2,
    }
    assert SECRET in record.local_log  # the backend's own log keeps everything


def test_a_key_error_carrying_data_does_not_come_out(project):
    exc = fail(project, "lookup = {}\n\n\nlookup[SECRET]\n")
    record = record_failure(exc, project)
    assert_safe(record, project)
    assert record.summary.text() == (
        "KeyError in analysis/model.py, line 4: a key (such as a column name or dictionary key) "
        "was not found"
    )


def test_a_pandas_error_echoing_rows_does_not_come_out(project):
    exc = fail(
        project,
        """
        import pandas as pd

        frame = pd.DataFrame({"nhs_number": [SECRET, "x"], "age": [1, 2]})
        frame["nhs_number"].astype(int)
        """,
    )
    assert SECRET.split()[0] in str(exc)  # pandas does put the value in its message
    record = record_failure(exc, project)
    assert_safe(record, project)
    assert record.summary.file == "analysis/model.py"
    assert record.summary.line == 5  # the researcher's line, not pandas's


def test_a_pandas_class_is_named_with_its_own_docstring(project):
    exc = fail(
        project,
        """
        import pandas as pd

        left = pd.DataFrame({"k": [SECRET, SECRET]})
        left.merge(left, on="k", validate="one_to_one")
        """,
    )
    summary = summarise_failure(exc, project)
    assert summary.error_class == "pandas.errors.MergeError"
    assert SECRET not in summary.text()


def test_a_class_named_after_a_value_does_not_come_out(project):
    exc = fail(
        project, "raise type(SECRET.replace(' ', '_').replace('-', '_'), (KeyError,), {})()\n"
    )
    summary = summarise_failure(exc, project)
    assert summary.error_class == "KeyError (a class made at run time)"
    assert "Jane" not in summary.text()


def test_a_class_pretending_to_be_from_pandas_is_not_trusted(project):
    exc = fail(
        project,
        """
        class Leak(Exception):
            pass

        Leak.__module__ = "pandas.errors"
        Leak.__qualname__ = Leak.__name__ = "Jane_Doe"
        Leak.__doc__ = SECRET
        raise Leak()
        """,
    )
    summary = summarise_failure(exc, project)
    assert SECRET not in summary.text() and "Jane" not in summary.text()
    assert summary.error_class == "Exception (a class made at run time)"


def test_a_class_written_in_the_researchers_code_is_named(project):
    exc = fail(
        project, "class CohortTooSmall(ValueError):\n    pass\n\nraise CohortTooSmall(SECRET)\n"
    )
    summary = summarise_failure(exc, project)
    assert summary.error_class == "CohortTooSmall (a subclass of ValueError)"
    assert summary.line == 4 and SECRET not in summary.text()


def test_paths_outside_the_project_never_come_out(project, tmp_path):
    helper = tmp_path / "elsewhere" / "helper.py"
    helper.parent.mkdir()
    helper.write_text("def read():\n    open('/srv/backend/secret_extract.csv')\n")
    exc = fail(
        project,
        f"""
        import sys
        sys.path.insert(0, {str(helper.parent)!r})
        import helper

        helper.read()
        """,
    )
    record = record_failure(exc, project)
    assert_safe(record, project)
    assert "secret_extract" not in record.summary.text()
    assert record.summary.error_class == "FileNotFoundError"
    assert (record.summary.file, record.summary.line) == ("analysis/model.py", 6)


def test_an_error_with_no_frame_in_the_project_has_no_place(project):
    summary = summarise_failure(ValueError(SECRET), project)
    assert summary.file is None and summary.line is None
    assert summary.text() == "ValueError: a value was not valid for the operation"


def test_a_syntax_error_gives_its_line(project):
    exc = fail(project, "x = 1\ny = (SECRET\n", name="analysis/broken.py")
    summary = summarise_failure(exc, project)
    assert summary.error_class == "SyntaxError"
    assert summary.file == "analysis/broken.py" and summary.line == 2


def test_a_definitions_failure_is_summarised_from_its_sandboxed_process(project):
    definition = project / "analysis" / "dataset_definition.py"
    definition.parent.mkdir()
    definition.write_text(
        f"from ehrql import create_dataset\ncodes = {{}}\nvalue = codes[{SECRET!r}]\n"
    )
    with pytest.raises(DefinitionLoadError) as caught:
        load_dataset_definition(definition, project_dir=project)
    assert SECRET in str(caught.value)  # the local message (for the researcher's laptop) has it
    record = record_failure(caught.value, project)
    assert_safe(record, project)
    assert record.summary.to_dict() == {
        "error_class": "KeyError",
        "message": "a key (such as a column name or dictionary key) was not found",
        "file": "analysis/dataset_definition.py",
        "line": 3,
    }
    assert SECRET in record.local_log
