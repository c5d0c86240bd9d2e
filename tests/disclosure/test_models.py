"""Model outputs (issue #16 point 6): residual degrees of freedom, observations per parameter
and observations per category of the design matrix, each tried as an attack on the checker."""

import json

import pytest

from fedsafe.disclosure import DisclosurePolicy, OutputFileError, TableError
from fedsafe.disclosure.checker import check_output_file
from fedsafe.disclosure.findings import Status
from fedsafe.disclosure.models import (
    describe_model,
    describe_model_size,
    parameters_problem,
    residual_df_problem,
)
from fedsafe.disclosure.sidecar import write_sidecar

POLICY = DisclosurePolicy()
ESTIMATES = "term,estimate,std_error\nintercept,1.2,0.1\nsex[M],0.3,0.05\nage,0.02,0.004\n"
COLUMNS = {"term": "label", "estimate": "estimate", "std_error": "estimate"}


def test_residual_degrees_of_freedom():
    assert residual_df_problem(100, 5, POLICY) is None
    problem = residual_df_problem(14, 5, POLICY)
    assert problem is not None and "9 residual degrees of freedom" in problem
    assert residual_df_problem(15, 5, POLICY) is None  # exactly 10 is enough
    with pytest.raises(TableError, match="model parameters: expected a whole number"):
        residual_df_problem(10, -1, POLICY)


@pytest.mark.parametrize(
    ("observations", "parameters", "per_parameter", "fails"),
    [
        (100, 10, 10, False),  # exactly 10 per parameter is enough
        (99, 10, 10, True),
        (50, 6, 10, True),  # residual df 44 passes, but 8.3 per parameter does not
        (50, 6, 5, False),
        (20, 19, 1, False),  # 1 leaves only the residual-df rule
        (0, 0, 10, False),  # no parameters: nothing to divide
    ],
)
def test_observations_per_parameter(observations, parameters, per_parameter, fails):
    policy = DisclosurePolicy(min_observations_per_parameter=per_parameter)
    problem = parameters_problem(observations, parameters, policy)
    assert (problem is not None) is fails
    if fails:
        assert f"{parameters} parameters for {observations} observations" in problem


def model_file(tmp_path, model, columns=COLUMNS, text=ESTIMATES):
    path = tmp_path / "model.csv"
    path.write_text(text)
    (tmp_path / "model.csv.disclosure.json").write_text(
        json.dumps({"columns": columns, "model": model})
    )
    return path


def verdict(report):
    return report.status, sorted({f.rule for f in report.findings if f.status is report.status})


FEMALE_MALE = {"sex": {"F": 130, "M": 110}}


@pytest.mark.parametrize(
    ("model", "policy", "expected"),
    [
        # a healthy model: every rule passes
        (
            {"observations": 240, "parameters": 3, "category_counts": FEMALE_MALE},
            POLICY,
            (Status.PASS, ["model_design", "model_estimates"]),
        ),
        # (a) too few residual degrees of freedom (and so too few per parameter)
        (
            {"observations": 12, "parameters": 3, "category_counts": {"sex": {"F": 6, "M": 6}}},
            DisclosurePolicy(suppress_at_or_below=5),
            (Status.FAIL, ["observations_per_parameter", "residual_degrees_of_freedom"]),
        ),
        # more parameters than observations (a penalised fit): negative residual df fails
        (
            {"observations": 3, "parameters": 5, "category_counts": {}},
            DisclosurePolicy(min_residual_df=0, min_observations_per_parameter=1),
            (Status.FAIL, ["observations_per_parameter", "residual_degrees_of_freedom"]),
        ),
        # (b) residual df fine (47) but 3 observations per parameter is too few
        (
            {"observations": 60, "parameters": 13, "category_counts": {}},
            POLICY,
            (Status.FAIL, ["observations_per_parameter"]),
        ),
        # (b) the same model passes a backend that asks for 4 per parameter
        (
            {"observations": 60, "parameters": 13, "category_counts": {}},
            DisclosurePolicy(min_observations_per_parameter=4),
            (Status.PASS, ["model_design", "model_estimates"]),
        ),
        # (c) a big model whose design has a category of one patient: the attack ACRO misses
        (
            {
                "observations": 1000,
                "parameters": 5,
                "category_counts": {"ethnicity": {"A": 600, "B": 399, "C": 1}},
            },
            POLICY,
            (Status.FAIL, ["small_category"]),
        ),
        # (c) at the threshold fails, just above passes
        (
            {"observations": 1000, "parameters": 5, "category_counts": {"g": {"A": 993, "B": 7}}},
            POLICY,
            (Status.FAIL, ["small_category"]),
        ),
        (
            {"observations": 1000, "parameters": 5, "category_counts": {"g": {"A": 992, "B": 8}}},
            POLICY,
            (Status.PASS, ["model_design", "model_estimates"]),
        ),
        # (c) an interaction term is a term too
        (
            {
                "observations": 300,
                "parameters": 6,
                "category_counts": {
                    "sex": {"F": 150, "M": 150},
                    "sex:smoker": {"F:no": 148, "F:yes": 2, "M:no": 100, "M:yes": 50},
                },
            },
            POLICY,
            (Status.FAIL, ["small_category"]),
        ),
    ],
)
def test_model_outputs_are_checked_through_their_design(tmp_path, model, policy, expected):
    assert verdict(check_output_file(model_file(tmp_path, model), policy)) == expected


def test_small_category_finding_names_the_term_and_level(tmp_path):
    model = {"observations": 100, "parameters": 3, "category_counts": {"eth": {"A": 97, "B": 3}}}
    report = check_output_file(model_file(tmp_path, model), POLICY)
    (finding,) = [f for f in report.findings if f.status is Status.FAIL]
    assert "term 'eth', level 'B': 3 observation(s)" in finding.reason


@pytest.mark.parametrize(
    ("text", "columns"),
    [
        (ESTIMATES, COLUMNS),  # declared estimates, no model object
        ("term,estimate,df_resid\nage,0.3,120\n", None),  # inferred residual df, no sidecar
    ],
)
def test_a_model_output_without_its_design_needs_review(tmp_path, text, columns):
    path = tmp_path / "model.csv"
    path.write_text(text)
    if columns is not None:
        (tmp_path / "model.csv.disclosure.json").write_text(json.dumps({"columns": columns}))
    report = check_output_file(path, POLICY)
    assert report.status is Status.NEEDS_REVIEW
    (finding,) = [f for f in report.findings if f.rule == "model_design"]
    assert "without a sidecar 'model' object" in finding.reason


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ([240, 3], "'model' must be an object"),
        ({"observations": 240, "parameters": 3}, "needs 'category_counts'"),
        ({"parameters": 3, "category_counts": {}}, "needs 'observations'"),
        ({"observations": -1, "parameters": 0, "category_counts": {}}, "'observations' must be"),
        ({"observations": "240", "parameters": 3, "category_counts": {}}, "a whole number >= 0"),
        ({"observations": 240.0, "parameters": 3, "category_counts": {}}, "a whole number >= 0"),
        ({"observations": True, "parameters": 0, "category_counts": {}}, "a whole number >= 0"),
        ({"observations": 9, "parameters": 1, "category_counts": []}, "must be an object"),
        ({"observations": 9, "parameters": 1, "category_counts": {"s": {}}}, "non-empty"),
        (
            {"observations": 9, "parameters": 1, "category_counts": {"s": {"F": -1, "M": 10}}},
            "level 'F' must be a whole number >= 0",
        ),
        (
            {"observations": 9, "parameters": 1, "category_counts": {"s": {"F": 4, "M": 4}}},
            "its levels hold 8 observations, but the model has 9",
        ),
        ({"observations": 9, "parameters": 1, "category_counts": {}, "r2": 0.5}, "'r2'"),
    ],
)
def test_bad_model_objects_are_refused_naming_the_key(tmp_path, model, message):
    with pytest.raises(OutputFileError, match=r"model\.csv\.disclosure\.json: 'model'") as caught:
        check_output_file(model_file(tmp_path, model), POLICY)
    assert message in str(caught.value)


def test_describe_model_counts_each_term_and_the_checker_reads_it(tmp_path):
    sex = ["F"] * 20 + ["M"] * 19 + ["X"]
    region = ["N", "S"] * 20
    model = describe_model(3, {"sex": sex, "region": region})
    assert model == {
        "observations": 40,
        "parameters": 3,
        "category_counts": {"sex": {"F": 20, "M": 19, "X": 1}, "region": {"N": 20, "S": 20}},
    }
    path = tmp_path / "model.csv"
    path.write_text(ESTIMATES)
    write_sidecar(path, {"columns": COLUMNS, "model": model})
    report = check_output_file(path, POLICY)
    assert [f.reason for f in report.findings if f.status is Status.FAIL] == [
        "term 'sex', level 'X': 1 observation(s) in the design matrix; each category needs more "
        "than 7 (its coefficient describes those few patients)"
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: describe_model(3, {}), "no categorical terms given"),
        (lambda: describe_model(3, {"a": ["x"] * 5, "b": ["y"] * 4}), "a=5, b=4"),
        (lambda: describe_model(1, {"a": ["x", None] * 5}), "missing level"),
        (lambda: describe_model(True, {"a": ["x"] * 5}), "'parameters' must be a whole number"),
        (lambda: describe_model_size(10, -2), "'parameters' must be a whole number"),
        (lambda: describe_model_size(10, 2, {"a": {"x": 9}}), "hold 9 observations"),
    ],
)
def test_describe_model_refuses_bad_input(call, message):
    with pytest.raises(TableError, match="describe_model") as caught:
        call()
    assert message in str(caught.value)


def test_describe_model_size_without_categories():
    assert describe_model_size(500, 4) == {
        "observations": 500,
        "parameters": 4,
        "category_counts": {},
    }
