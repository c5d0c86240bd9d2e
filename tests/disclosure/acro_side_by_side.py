"""Run the side-by-side cases through SACRO's ``acro`` and print its verdict for each, as JSON.

acro cannot be installed beside fedsafe (it pins pandas <= 2.3.3), so this script runs in a
virtual environment of its own; it imports only the standard library, ``acro_cases`` beside it,
and acro with its pandas. ``test_acro_side_by_side.py`` compares fedsafe's verdicts with the
committed output of this script, ``acro_verdicts.json``; regenerate it with::

    python3 -m venv .cache/acro-venv
    .cache/acro-venv/bin/python -m pip install acro==1.0.2
    .cache/acro-venv/bin/python tests/disclosure/acro_side_by_side.py \
        > tests/disclosure/acro_verdicts.json

acro is run with its default parameters (``ACRO(suppress=False)``: check and report, change
nothing). A case's verdict is the worst status of the outputs acro recorded for it
(``fail`` > ``review`` > ``pass``), with every output's status and summary kept.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd
from acro import ACRO
from acro_cases import CASES

COMMAND = (
    ".cache/acro-venv/bin/python tests/disclosure/acro_side_by_side.py "
    "> tests/disclosure/acro_verdicts.json"
)
_ORDER = ("pass", "review", "fail")


def run_case(case: dict) -> list[tuple[str, str]]:
    """(status, summary) of each output acro records for the case."""
    session = ACRO(suppress=False)
    data = pd.DataFrame(case["rows"])
    release = case["release"]
    kind = release["kind"]
    if kind == "statistic":
        session.pivot_table(
            data, index=release["by"], values=release["value"], aggfunc=release["statistic"]
        )
    elif kind == "two_tables":
        ((column, value),) = release["subgroup"].items()
        for part in (data, data[data[column] == value]):
            # patients by the dimension: everyone, then the subgroup
            session.pivot_table(
                part.assign(patients=1), index=release["by"], values="patients", aggfunc="count"
            )
    elif kind == "crosstab":
        session.crosstab(data[release["rows"]], data[release["columns"]])
    elif kind == "ols":
        dummies = pd.get_dummies(data[release["categorical"]], prefix=release["categorical"])
        dummies = dummies.drop(columns=f"{release['categorical']}_{release['reference']}")
        exog = pd.concat([data[release["numeric"]], dummies.astype(float)], axis=1)
        exog.insert(0, "const", 1.0)
        session.ols(data[release["outcome"]], exog)
    else:
        raise ValueError(f"unknown release kind {kind!r}")
    return [(str(out.status), str(out.summary)) for out in session.results.results.values()]


def main() -> None:
    logging.disable(logging.CRITICAL)  # acro logs every table; the JSON is the record
    cases = {}
    for name, case in CASES.items():
        with contextlib.redirect_stdout(io.StringIO()):
            outputs = run_case(case)
        verdict = max((status for status, _ in outputs), key=_ORDER.index)
        cases[name] = {
            "verdict": verdict,
            "outputs": [{"status": s, "summary": summary} for s, summary in outputs],
        }
    record = {
        "acro_version": metadata.version("acro"),
        "pandas_version": metadata.version("pandas"),
        "parameters": "acro defaults (ACRO(suppress=False))",
        "command": COMMAND,
        "cases": cases,
    }
    print(json.dumps(record, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
