"""`make demo`: the example study end to end, through its pipeline, on synthetic data.

1. Copies the study to ``demo-output/study`` (keeping what an earlier demo ran, so a second
   ``make demo`` shows unchanged actions being skipped).
2. Makes a synthetic core-schema database of 5,000 patients with the benchmark generator, as
   the study's dummy data (its codes include deliberate noise, as real data does).
3. Runs ``fedsafe run all``: the dataset action (the definition evaluated in its sandbox), then
   the python:v1 summary in its own confined folder, seeing only the dataset it needs.
4. Shows the released-style summary table and the SQL the dataset action ran.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT = REPO / "demo-output"
STUDY = OUT / "study"
FEDSAFE = Path(sys.executable).with_name("fedsafe")


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    print("$", " ".join(str(a) for a in args), flush=True)
    return subprocess.run(args, check=True, text=True, **kwargs)  # type: ignore[call-overload]


def main() -> int:
    STUDY.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        HERE, STUDY, dirs_exist_ok=True, ignore=shutil.ignore_patterns("run_demo.py", "__pycache__")
    )
    database = STUDY / "dummy_data" / "core.duckdb"
    if not database.exists():
        sys.path.insert(0, str(REPO / "benchmarks"))
        from synthetic_core import write_duckdb

        print("Making a synthetic core database of 5,000 patients ...", flush=True)
        database.parent.mkdir(exist_ok=True)
        write_duckdb(database, n_patients=5_000, seed=42)

    run([str(FEDSAFE), "check"], cwd=STUDY)
    run([str(FEDSAFE), "run", "all"], cwd=STUDY)

    definition = "analysis/dataset_definition.py"
    sql = run([str(FEDSAFE), "dump-dataset-sql", definition], cwd=STUDY, capture_output=True)
    (OUT / "dataset.sql").write_text(sql.stdout)
    print(
        f"\nThe SQL fedsafe ran ({len(sql.stdout.splitlines())} lines) is in {OUT / 'dataset.sql'}"
    )
    print(f"Outputs, logs and the manifest are in {STUDY / 'output'} and {STUDY / 'metadata'}")
    print("\nSummary by age band (counts under 7 hidden, the rest rounded to 5):")
    print((STUDY / "output" / "summary_by_age_band.csv").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
