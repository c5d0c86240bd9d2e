"""`make demo`: the example study end to end on synthetic data.

1. Makes a synthetic core-schema database (5,000 patients) with the benchmark generator.
2. Runs ``fedsafe generate-dataset`` on the example definition, in its sandbox, against it.
3. Shows the SQL fedsafe ran and a summary of the dataset.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT = REPO / "demo-output"
FEDSAFE = Path(sys.executable).with_name("fedsafe")


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    print("$", " ".join(str(a) for a in args), flush=True)
    return subprocess.run(args, check=True, text=True, **kwargs)  # type: ignore[call-overload]


def main() -> int:
    OUT.mkdir(exist_ok=True)
    database = OUT / "core.duckdb"
    if not database.exists():
        sys.path.insert(0, str(REPO / "benchmarks"))
        from synthetic_core import write_duckdb

        print("Making a synthetic database of 5,000 patients ...", flush=True)
        write_duckdb(database, n_patients=5_000, seed=42)

    output = OUT / "dataset.parquet"
    definition = "analysis/dataset_definition.py"
    run(
        [
            str(FEDSAFE),
            "generate-dataset",
            definition,
            "--output",
            str(output),
            "--dsn",
            f"duckdb:///{database}",
            "--param",
            "index_date=2020-01-01",
        ],
        cwd=HERE,
    )
    sql = run([str(FEDSAFE), "dump-dataset-sql", definition], cwd=HERE, capture_output=True)
    (OUT / "dataset.sql").write_text(sql.stdout)
    print(f"The SQL fedsafe ran ({len(sql.stdout.splitlines())} lines) is in {OUT / 'dataset.sql'}")

    table = pq.read_table(output)
    print(
        f"\n{table.num_rows} patients in the population; columns: {', '.join(table.column_names)}"
    )
    print(f"  mean age: {pc.mean(table['age']).as_py():.1f}")
    print(f"  with diabetes: {pc.sum(table['has_diabetes']).as_py()}")
    counts = pc.value_counts(table["age_band"]).to_pylist()
    print("  age bands: " + ", ".join(f"{c['values']}: {c['counts']}" for c in counts))
    counts = pc.value_counts(table["ethnicity"]).to_pylist()
    print("  ethnicity (Grouping_6): " + ", ".join(f"{c['values']}: {c['counts']}" for c in counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
