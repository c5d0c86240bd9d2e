"""User arguments, sibling modules and project files, as a published definition uses them."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from fedsafe.loader import DefinitionLoadError, load_dataset_definition
from fedsafe.query_model import nodes

ARGPARSE_DEFINITION = dedent(
    """\
    import argparse
    import sys
    from ehrql import create_dataset
    from ehrql.tables.core import patients

    from study_helpers import aged_at_least

    parser = argparse.ArgumentParser()
    parser.add_argument("--start-date", required=True)
    parser.add_argument("--min-age", type=int, default=18)
    args = parser.parse_args()
    print("argv0", sys.argv[0].rsplit("/", 1)[-1], file=sys.stderr)

    dataset = create_dataset()
    dataset.define_population(aged_at_least(args.start_date, args.min_age))
    with open("config/label.txt") as handle:  # relative to the project's root
        label = handle.read().strip()
    setattr(dataset, label, patients.sex)
    """
)
HELPERS = dedent(
    """\
    from ehrql.tables.core import patients


    def aged_at_least(date, age):
        return patients.age_on(date) >= age
    """
)


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "analysis").mkdir(parents=True)
    (root / "config").mkdir()
    (root / "analysis" / "dataset_definition.py").write_text(ARGPARSE_DEFINITION)
    (root / "analysis" / "study_helpers.py").write_text(HELPERS)
    (root / "config" / "label.txt").write_text("sex_at_start\n")
    return root


def _values(node: nodes.Node) -> set:
    return {n.value for n in nodes.walk(node) if isinstance(n, nodes.Value)}


def test_arguments_reach_argparse_and_siblings_and_project_files_work(tmp_path, capsys):
    root = _project(tmp_path)
    import io

    err = io.StringIO()
    loaded = load_dataset_definition(
        root / "analysis" / "dataset_definition.py",
        user_args=["--start-date", "2021-04-01", "--min-age", "65"],
        project_dir=root,
        stderr=err,
    )
    assert [name for name, _ in loaded.dataset.variables] == ["sex_at_start"]
    found = _values(loaded.dataset.population)
    assert 65 in found
    import datetime

    assert datetime.date(2021, 4, 1) in found
    assert "argv0 dataset_definition.py" in err.getvalue()


def test_different_arguments_give_different_queries(tmp_path):
    root = _project(tmp_path)
    path = root / "analysis" / "dataset_definition.py"
    young = load_dataset_definition(
        path, user_args=["--start-date", "2021-04-01"], project_dir=root
    )
    old = load_dataset_definition(
        path, user_args=["--start-date", "2021-04-01", "--min-age", "80"], project_dir=root
    )
    assert 18 in _values(young.dataset.population)
    assert 80 in _values(old.dataset.population)
    assert young.dataset != old.dataset


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], "the following arguments are required: --start-date"),
        (["--start-date", "2021-04-01", "--bogus"], "unrecognized arguments: --bogus"),
        (
            ["--start-date", "2021-04-01", "--min-age", "old"],
            "argument --min-age: invalid int value: 'old'",
        ),
    ],
)
def test_arguments_the_definition_rejects_are_reported_with_its_name(tmp_path, argv, expected):
    root = _project(tmp_path)
    import io

    err = io.StringIO()
    with pytest.raises(DefinitionLoadError) as info:
        load_dataset_definition(
            root / "analysis" / "dataset_definition.py",
            user_args=argv,
            project_dir=root,
            stderr=err,
        )
    message = str(info.value)
    assert message.startswith("analysis/dataset_definition.py, line 11: the dataset definition")
    assert "sys.exit(2)" in message
    assert f"dataset_definition.py: error: {expected}" in message
    assert "usage: dataset_definition.py" in err.getvalue()  # argparse's own usage, passed on


def test_help_is_not_a_dataset(tmp_path):
    root = _project(tmp_path)
    with pytest.raises(DefinitionLoadError, match=r"sys.exit\(0\) before making a dataset"):
        load_dataset_definition(
            root / "analysis" / "dataset_definition.py",
            user_args=["--help"],
            project_dir=root,
            stderr=__import__("io").StringIO(),
        )
