"""project.yaml: what is accepted, and each refusal with its line, action and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fedsafe.errors import FedsafeError
from fedsafe.pipeline.errors import ProjectError, ProjectErrors
from fedsafe.pipeline.model import load_project, parse_project

GOOD = """\
version: '1'
actions:
  generate_dataset:
    run: fedsafe:v1 generate-dataset analysis/dataset_definition.py --output output/dataset.arrow
    outputs:
      highly_sensitive:
        dataset: output/dataset.arrow
  model:
    run: python:v1 analysis/model.py --years 5
    needs: [generate_dataset]
    config:
      years: 5
    backends: [tpp, emis]
    outputs:
      moderately_sensitive:
        table: output/table.csv
        charts: output/charts/*.png
  summary:
    run: r:v1 analysis/summary.R
    needs: [generate_dataset]
    outputs:
      highly_sensitive:
        data: output/summary.rds
"""


def test_a_good_project_is_read_into_frozen_values() -> None:
    project = parse_project(GOOD)
    assert list(project.actions) == ["generate_dataset", "model", "summary"]
    model = project.actions["model"]
    assert model.run.runtime == "python:v1"
    assert model.run.args == ("analysis/model.py", "--years", "5")
    assert model.needs == ("generate_dataset",)
    assert model.config == {"years": 5}
    assert model.backends == ("tpp", "emis")
    assert [(o.name, o.level, o.pattern) for o in model.outputs] == [
        ("table", "moderately_sensitive", "output/table.csv"),
        ("charts", "moderately_sensitive", "output/charts/*.png"),
    ]
    assert project.actions["generate_dataset"].run.is_dataset
    assert project.actions["summary"].backends is None  # every backend
    assert model.level_of("output/charts/a.png") == "moderately_sensitive"
    assert model.level_of("output/charts/sub/a.png") is None
    with pytest.raises(AttributeError):
        model.name = "other"  # type: ignore[misc]


def _replace(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new)


# (id, yaml text, expected line, action, field, words in the message)
BAD: list[tuple[str, str, int | None, str | None, str | None, str]] = [
    ("not yaml", "version: '1'\nactions: [\n", 3, None, None, "not valid YAML"),
    ("not a mapping", "- a\n- b\n", 1, None, None, "expected a mapping"),
    ("no actions", "version: '1'\n", 1, None, "actions", "'actions' is required"),
    ("bad version", _replace("version: '1'", "version: '4.0'"), 1, None, "version", "'4.0'"),
    (
        "unknown top-level key",
        _replace("version: '1'", "version: '1'\nexpectations: {population_size: 10}"),
        2,
        None,
        None,
        "'expectations' is not a field",
    ),
    (
        "misspelt field",
        _replace(
            "    needs: [generate_dataset]\n    config", "    need: [generate_dataset]\n    config"
        ),
        10,
        "model",
        None,
        "did you mean 'needs'",
    ),
    (
        "run missing",
        _replace("    run: r:v1 analysis/summary.R\n", ""),
        18,
        "summary",
        "run",
        "'run' is required",
    ),
    (
        "needs not a list",
        _replace("needs: [generate_dataset]\n    config", "needs: generate_dataset\n    config"),
        10,
        "model",
        "needs",
        "valid list",
    ),
    (
        "unknown runtime",
        _replace("python:v1 analysis/model.py", "python:latest analysis/model.py"),
        9,
        "model",
        "run",
        "did you mean 'python:v1'",
    ),
    (
        "opensafely runtime",
        _replace("fedsafe:v1 generate-dataset", "ehrql:v1 generate-dataset"),
        4,
        "generate_dataset",
        "run",
        "did you mean 'fedsafe:v1'",
    ),
    (
        "unknown fedsafe command",
        _replace("generate-dataset analysis", "generate-cohort analysis"),
        4,
        "generate_dataset",
        "run",
        "no command 'generate-cohort'",
    ),
    (
        "fedsafe action pointed at another folder",
        _replace("--output output/dataset.arrow", "--output output/dataset.arrow --project-dir /"),
        4,
        "generate_dataset",
        "run",
        "--project-dir cannot be given",
    ),
    (
        "python runtime with an R script",
        _replace("python:v1 analysis/model.py", "python:v1 analysis/model.R"),
        9,
        "model",
        "run",
        "ending in .py",
    ),
    (
        "script outside the project",
        _replace("python:v1 analysis/model.py", "python:v1 ../elsewhere/model.py"),
        9,
        "model",
        "run",
        "inside the project",
    ),
    (
        "unknown needs",
        _replace("needs: [generate_dataset]\n    config", "needs: [generate_datset]\n    config"),
        10,
        "model",
        "needs.0",
        "did you mean 'generate_dataset'",
    ),
    (
        "needs itself",
        _replace("needs: [generate_dataset]\n    config", "needs: [model]\n    config"),
        10,
        "model",
        "needs.0",
        "cannot need itself",
    ),
    (
        "cycle",
        _replace(
            "    outputs:\n      highly_sensitive:\n        dataset",
            "    needs: [summary]\n    outputs:\n      highly_sensitive:\n        dataset",
        ),
        5,
        "generate_dataset",
        "needs",
        "generate_dataset -> summary -> generate_dataset",
    ),
    (
        "duplicate action",
        GOOD + "  model:\n    run: python:v1 a.py\n    outputs: {}\n",
        24,
        None,
        None,
        "'model' appears twice",
    ),
    (
        "duplicate pattern across actions",
        _replace("data: output/summary.rds", "data: output/table.csv"),
        23,
        "summary",
        "outputs.highly_sensitive.data",
        "is declared twice",
    ),
    (
        "overlapping patterns",
        _replace("data: output/summary.rds", "data: output/charts/bar*"),
        23,
        "summary",
        "outputs.highly_sensitive.data",
        "could match the same files as 'output/charts/*.png'",
    ),
    (
        "overlap through **",
        _replace(
            "data: output/summary.rds", "data: output/**/*.rds\n        other: output/x/y.rds"
        ),
        24,
        "summary",
        "outputs.highly_sensitive.other",
        "could match the same files",
    ),
    (
        "pattern with ..",
        _replace("data: output/summary.rds", "data: output/../../summary.rds"),
        23,
        "summary",
        "outputs.highly_sensitive.data",
        "must not contain '..'",
    ),
    (
        "absolute pattern",
        _replace("data: output/summary.rds", "data: /tmp/summary.rds"),
        23,
        "summary",
        "outputs.highly_sensitive.data",
        "not an absolute path",
    ),
    (
        "pattern into metadata",
        _replace("data: output/summary.rds", "data: metadata/manifest.json"),
        23,
        "summary",
        "outputs.highly_sensitive.data",
        "metadata/",
    ),
    (
        "wildcard that reaches metadata",
        _replace("data: output/summary.rds", "data: '*/summary.rds'"),
        23,
        "summary",
        "outputs.highly_sensitive.data",
        "metadata/",
    ),
    (
        "dataset output moderately sensitive",
        _replace(
            "      highly_sensitive:\n        dataset: output/dataset.arrow",
            "      moderately_sensitive:\n        dataset: output/dataset.csv",
        ).replace("--output output/dataset.arrow", "--output output/dataset.csv"),
        7,
        "generate_dataset",
        "outputs.moderately_sensitive.dataset",
        "must all be highly_sensitive",
    ),
    (
        "dataset written where no output matches",
        _replace("--output output/dataset.arrow", "--output output/other.arrow"),
        5,
        "generate_dataset",
        "outputs",
        "none of the action's highly_sensitive outputs matches",
    ),
    (
        "unreleasable moderately sensitive type",
        _replace("table: output/table.csv", "table: output/table.parquet"),
        16,
        "model",
        "outputs.moderately_sensitive.table",
        ".parquet files can never be released",
    ),
    (
        "moderately sensitive without a file type",
        _replace("table: output/table.csv", "table: output/tables/*"),
        16,
        "model",
        "outputs.moderately_sensitive.table",
        "must name a file type",
    ),
    (
        "no outputs",
        _replace("      highly_sensitive:\n        data: output/summary.rds", "      {}"),
        21,
        "summary",
        "outputs",
        "at least one output",
    ),
    (
        "bad backend name",
        _replace("backends: [tpp, emis]", "backends: [tpp, Emis Web]"),
        13,
        "model",
        "backends.1",
        "is not a backend name",
    ),
    (
        "empty backends",
        _replace("backends: [tpp, emis]", "backends: []"),
        13,
        "model",
        "backends",
        "at least one backend",
    ),
    (
        "config not a mapping",
        _replace("    config:\n      years: 5", "    config: 5"),
        11,
        "model",
        "config",
        "valid dictionary",
    ),
    (
        "action named all",
        _replace("  summary:", "  all:").replace(
            "needs: [generate_dataset]\n    outputs", "outputs"
        ),
        18,
        "all",
        None,
        "reserved",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "action", "field", "words"),
    [case[1:] for case in BAD],
    ids=[case[0] for case in BAD],
)
def test_bad_project_yaml_is_refused_with_its_place(
    text: str, line: int | None, action: str | None, field: str | None, words: str
) -> None:
    with pytest.raises(ProjectError) as caught:
        parse_project(text)
    error = caught.value
    assert isinstance(error, FedsafeError)
    assert words in str(error)
    assert (error.line, error.action, error.field) == (line, action, field), str(error)
    assert str(error).startswith(f"project.yaml, line {line}" if line else "project.yaml")


def test_scripts_must_exist_when_a_project_folder_is_given(tmp_path: Path) -> None:
    (tmp_path / "project.yaml").write_text(GOOD)
    (tmp_path / "analysis").mkdir()
    for name in ("dataset_definition.py", "model.py"):
        (tmp_path / "analysis" / name).write_text("")
    with pytest.raises(ProjectError) as caught:
        load_project(tmp_path)
    assert (caught.value.line, caught.value.action) == (19, "summary")
    assert "analysis/summary.R does not exist" in str(caught.value)
    (tmp_path / "analysis" / "summary.R").write_text("")
    assert list(load_project(tmp_path).actions) == ["generate_dataset", "model", "summary"]


def test_a_missing_project_yaml_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="fedsafe init"):
        load_project(tmp_path)


def test_the_good_text_really_is_the_base_of_each_bad_case() -> None:
    # Each bad case is the good project with one change; this shows the change is the cause.
    assert textwrap.dedent(GOOD) == GOOD
    parse_project(GOOD)


def test_every_problem_is_reported_at_once() -> None:
    text = (
        GOOD.replace("python:v1 analysis/model.py", "python:latest analysis/model.py")
        .replace("needs: [generate_dataset]\n    outputs", "needs: [generate_datset]\n    outputs")
        .replace("data: output/summary.rds", "data: output/dataset.arrow")
    )
    with pytest.raises(ProjectErrors) as caught:
        parse_project(text)
    error = caught.value
    places = [(p.line, p.action, p.field) for p in error.problems]
    assert places == [
        (9, "model", "run"),
        (20, "summary", "needs.0"),
        (23, "summary", "outputs.highly_sensitive.data"),
    ]
    assert str(error).startswith("project.yaml has 3 problems:\n  project.yaml, line 9")
    assert (error.line, error.action) == (9, "model")  # the first, for tools that want one


def test_every_shape_problem_is_reported_at_once() -> None:
    text = GOOD.replace("    run: r:v1 analysis/summary.R\n", "").replace(
        "config:\n      years: 5", "config: 5"
    )
    with pytest.raises(ProjectErrors) as caught:
        parse_project(text)
    assert [(p.line, p.action, p.field) for p in caught.value.problems] == [
        (11, "model", "config"),
        (17, "summary", "run"),  # the action's own line, as its run line is missing
    ]
