"""Model outputs: when a fitted model may be released, judged from the size of its design.

Three rules, each because a model can restate its records:

* residual degrees of freedom: with few, a model's coefficients and residuals come close to the
  individual records themselves (with zero, a regression reproduces its data exactly). SACRO's
  guidance and ACRO use a minimum of 10, our default too;
* observations per parameter: a model with nearly as many parameters as records describes
  small groups of them, even when its residual degrees of freedom pass
  (``min_observations_per_parameter``, default 10);
* categories of the design matrix: a coefficient for a category with few observations is a
  statistic about those few (the coefficient of a dummy with one observation is that person's
  residual). Each level of each categorical term must have more than ``suppress_at_or_below``
  observations. ACRO does not check this.

A model output says how big its design was in its sidecar's ``model`` object, which
:func:`describe_model` makes from the per-observation category values::

    "model": {"observations": 240, "parameters": 4,
              "category_counts": {"sex": {"F": 130, "M": 110}, "region": {...}}}

``category_counts`` maps every categorical term (an interaction too, as one term whose levels
join the parts, ``"F:65+"``) to its observations per level; ``{}`` says the model has none. The
counts of a term add up to ``observations``, since every observation has one level.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import Any

from fedsafe.disclosure.errors import OutputFileError, TableError
from fedsafe.disclosure.policy import DisclosurePolicy

__all__ = [
    "ModelDesign",
    "describe_model",
    "describe_model_size",
    "model_problems",
    "parameters_problem",
    "parse_model_design",
    "residual_df_problem",
]


@dataclass(frozen=True)
class ModelDesign:
    """What the checker needs to know about a fitted model's design matrix."""

    observations: int
    parameters: int
    category_counts: Mapping[str, Mapping[str, int]]


def residual_df_problem(observations: int, parameters: int, policy: DisclosurePolicy) -> str | None:
    """Why a model with these sizes may not be released, or None when it may."""
    _check_sizes(observations, parameters)
    residual = observations - parameters
    if residual < policy.min_residual_df:
        return (
            f"{residual} residual degrees of freedom ({observations} observations, "
            f"{parameters} parameters); the policy needs at least {policy.min_residual_df}"
        )
    return None


def parameters_problem(observations: int, parameters: int, policy: DisclosurePolicy) -> str | None:
    """Why a model has too many parameters for its observations, or None when it has not."""
    _check_sizes(observations, parameters)
    need = policy.min_observations_per_parameter
    if parameters and observations < need * parameters:
        return (
            f"{parameters} parameters for {observations} observations "
            f"({observations / parameters:.3g} per parameter); the policy needs at least "
            f"{need:g} observations per parameter"
        )
    return None


def model_problems(design: ModelDesign, policy: DisclosurePolicy) -> list[tuple[str, str]]:
    """Every rule the design breaks, as (rule, reason) pairs; empty when it may be released."""
    problems = []
    for rule, check in (
        ("residual_degrees_of_freedom", residual_df_problem),
        ("observations_per_parameter", parameters_problem),
    ):
        reason = check(design.observations, design.parameters, policy)
        if reason is not None:
            problems.append((rule, reason))
    threshold = policy.suppress_at_or_below
    for term, levels in sorted(design.category_counts.items()):
        for level, count in sorted(levels.items()):
            if count <= threshold:
                problems.append(
                    (
                        "small_category",
                        f"term {term!r}, level {level!r}: {count} observation(s) in the design "
                        f"matrix; each category needs more than {threshold} (its coefficient "
                        "describes those few patients)",
                    )
                )
    return problems


def describe_model(parameters: int, categories: Mapping[str, Sequence[Hashable]]) -> dict[str, Any]:
    """The sidecar's ``model`` object for a model fitted to these observations.

    ``categories`` gives, for every categorical term of the design, its level for each
    observation used in the fit (rows dropped for missing values left out), all of one length;
    ``{}`` with no categorical terms cannot say how many observations there were, so give the
    number as a term-less model through :func:`describe_model_size` instead.
    """
    lengths = {term: len(values) for term, values in categories.items()}
    if not lengths:
        raise TableError(
            "describe_model: no categorical terms given, so the number of observations is "
            "unknown; use describe_model_size(observations, parameters)"
        )
    if len(set(lengths.values())) != 1:
        raise TableError(
            "describe_model: every term needs one level per observation; got lengths "
            + ", ".join(f"{t}={n}" for t, n in lengths.items())
        )
    observations = next(iter(lengths.values()))
    counts = {}
    for term, values in categories.items():
        if any(v is None for v in values):
            raise TableError(
                f"describe_model: term {term!r} has a missing level; leave out the "
                "observations the fit dropped"
            )
        counts[str(term)] = {str(level): n for level, n in Counter(values).items()}
    return describe_model_size(observations, parameters, counts)


def describe_model_size(
    observations: int,
    parameters: int,
    category_counts: Mapping[str, Mapping[str, int]] | None = None,
) -> dict[str, Any]:
    """The sidecar's ``model`` object from sizes already counted (validated the same way)."""
    document = {
        "observations": observations,
        "parameters": parameters,
        "category_counts": {t: dict(levels) for t, levels in (category_counts or {}).items()},
    }
    try:
        parse_model_design(document, Path("describe_model"))
    except OutputFileError as exc:
        raise TableError(str(exc)) from None
    return document


def parse_model_design(document: object, path: Path) -> ModelDesign:
    """A sidecar's ``model`` object, validated; every mistake names the key and what was
    expected, because a model output with a wrong design description must not pass."""
    where = f"{path}: 'model'"
    if not isinstance(document, dict):
        raise OutputFileError(f"{where} must be an object, got {type(document).__name__}")
    unknown = sorted(set(document) - {"observations", "parameters", "category_counts"})
    if unknown:
        raise OutputFileError(
            f"{where} has unknown key(s) {', '.join(map(repr, unknown))}; known keys are "
            "observations, parameters, category_counts"
        )
    sizes = {}
    for key in ("observations", "parameters"):
        if key not in document:
            raise OutputFileError(f"{where} needs {key!r} (a whole number >= 0)")
        sizes[key] = _whole(document[key], f"{where} {key!r}")
    if "category_counts" not in document:
        raise OutputFileError(
            f"{where} needs 'category_counts' (observations per level of each categorical "
            "term; {} when the model has none)"
        )
    terms = document["category_counts"]
    if not isinstance(terms, dict):
        raise OutputFileError(f"{where} 'category_counts' must be an object of terms")
    counts: dict[str, dict[str, int]] = {}
    for term, levels in terms.items():
        at = f"{where} 'category_counts' {term!r}"
        if not isinstance(levels, dict) or not levels:
            raise OutputFileError(f"{at} must be a non-empty object of level: observations")
        counts[term] = {level: _whole(n, f"{at} level {level!r}") for level, n in levels.items()}
        total = sum(counts[term].values())
        if total != sizes["observations"]:
            raise OutputFileError(
                f"{at}: its levels hold {total} observations, but the model has "
                f"{sizes['observations']}; every observation has exactly one level"
            )
    return ModelDesign(sizes["observations"], sizes["parameters"], counts)


def _whole(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise OutputFileError(f"{what} must be a whole number >= 0, got {value!r}")
    return value


def _check_sizes(observations: int, parameters: int) -> None:
    for name, value in (("observations", observations), ("parameters", parameters)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
            raise TableError(f"model {name}: expected a whole number >= 0, got {value!r}")
