"""The hand-written DuckDB query that ``cohort_definition.py`` is measured against.

This is the yardstick for fedsafe's performance, so it has to be both right
and fast: the SQL a competent analyst would write by hand for the same 20
columns. One pass over each event table, joined first to a tiny code-flag table
(so only codelist rows reach the aggregation), with conditional aggregates
(``FILTER``) for every variable that comes from that table, and, where ehrQL
picks a row by sort order, the ``max`` of the sort key packed into a struct
(cheaper than ``arg_max`` in DuckDB, and it carries the wanted value along).

ehrQL semantics reproduced here (see the notes on each column in the SQL):

* ``count_for_patient`` is 0, never NULL, for patients without rows;
* ``age_on`` is whole elapsed years, so a birthday falling on the index date
  counts and 29 February birthdays are handled without date arithmetic;
* ``sort_by(...).first_for_patient()`` treats NULL as smaller than every value,
  so the "first" of a frame containing an undated row is NULL, and a NULL
  numeric value loses a same-day tie for "last";
* ``where`` drops rows whose condition is NULL, ``except_where`` keeps them;
* ``for_patient_on`` keeps registrations ending *on* the date and prefers the
  latest start, then the latest end (NULL end sorting first), then the highest
  practice id; ``exists_for_patient_on`` needs the end to be *after* the date;
* window starts such as ``index_date - years(2)`` follow ehrQL's rule of
  rounding a non-existent date (29 February) up to 1 March.

Run it directly to produce the baseline output; ``bench_cohort.py`` does so in
a subprocess so that both contenders are timed the same way::

    python benchmarks/cohort_baseline.py --db core.duckdb --output baseline.parquet
    python benchmarks/cohort_baseline.py --print-sql
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from calendar import isleap
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

REPO_ROOT = Path(__file__).resolve().parent.parent
CODELIST_DIR = REPO_ROOT.parent / "shared" / "data" / "codelists"
INDEX_DATE = date(2020, 1, 1)

# (file, column) for each codelist, as in cohort_definition.py.
CODELISTS = {
    "diabetes": ("nhsd-primary-care-domain-refsets-dm_cod.csv", "code"),
    "osteoarthritis": ("user-speed-vm-osteoarthritis-snomed-ct.csv", "code"),
    "nsaids": ("user-speed-vm-nsaids-dmd.csv", "dmd_id"),
    "opioids": ("opensafely-strongopioidsCW-dmd.csv", "dmd_id"),
}

# Output columns, in the order cohort_definition.py defines them.
COLUMNS = (
    "patient_id",
    "age",
    "sex",
    "diabetes_first_date",
    "diabetes_last_date",
    "diabetes_count",
    "diabetes_last_value",
    "diabetes_mean_value",
    "has_osteoarthritis",
    "oa_first_date",
    "oa_count_2y",
    "nsaid_count_1y",
    "nsaid_last_date",
    "opioid_first_date",
    "opioid_count",
    "opioid_last_90d",
    "date_of_death",
    "died",
    "underlying_cause_of_death",
    "practice_id",
    "registration_count",
)


def shift_years(d: date, n: int) -> date:
    """``d + years(n)`` with ehrQL's rule: a 29 February that does not exist becomes 1 March."""
    year = d.year + n
    if d.month == 2 and d.day == 29 and not isleap(year):
        return date(year, 3, 1)
    return d.replace(year=year)


def _lit(d: date) -> str:
    return f"DATE '{d.isoformat()}'"


def _path(p: Path) -> str:
    return "'" + str(p).replace("'", "''") + "'"


def _codes_cte(name: str, codelist_dir: Path) -> str:
    filename, column = CODELISTS[name]
    return (
        f"{name}_codes AS (\n"
        f"    SELECT DISTINCT trim({column}) AS code\n"
        f"    FROM read_csv({_path(codelist_dir / filename)}, header = true, all_varchar = true)\n"
        f"    WHERE trim({column}) <> ''\n"
        f")"
    )


def baseline_sql(codelist_dir: Path = CODELIST_DIR, index_date: date = INDEX_DATE) -> str:
    """The cohort query as one DuckDB ``SELECT``, for the given index date."""
    idx = _lit(index_date)
    oa_from = _lit(shift_years(index_date, -2))  # index_date - years(2)
    nsaid_from = _lit(index_date - timedelta(days=365))  # index_date - days(365)
    opioid_from = _lit(index_date - timedelta(days=90))  # index_date - days(90)
    index_md = index_date.month * 100 + index_date.day
    codes = ",\n".join(_codes_cte(name, codelist_dir) for name in CODELISTS)

    return f"""
WITH
{codes},
-- One row per code with a flag per codelist, so a code in two lists counts for both.
snomed_flags AS (
    SELECT code, bool_or(is_dm) AS is_dm, bool_or(is_oa) AS is_oa
    FROM (
        SELECT code, true AS is_dm, false AS is_oa FROM diabetes_codes
        UNION ALL
        SELECT code, false, true FROM osteoarthritis_codes
    )
    GROUP BY code
),
dmd_flags AS (
    SELECT code, bool_or(is_nsaid) AS is_nsaid, bool_or(is_opioid) AS is_opioid
    FROM (
        SELECT code, true AS is_nsaid, false AS is_opioid FROM nsaids_codes
        UNION ALL
        SELECT code, false, true FROM opioids_codes
    )
    GROUP BY code
),
people AS (
    SELECT
        patient_id,
        sex,
        date_of_death,
        -- Whole years elapsed: the year difference, less one if this year's
        -- birthday (month, day) is still to come on the index date.
        {index_date.year} - year(date_of_birth)
            - CASE WHEN month(date_of_birth) * 100 + day(date_of_birth) > {index_md}
                   THEN 1 ELSE 0 END AS age
    FROM patients
),
registrations AS (
    SELECT
        patient_id,
        count(*) AS registration_count,
        -- exists_for_patient_on: started on/before, ends strictly after (or never).
        bool_or(start_date <= {idx} AND (end_date IS NULL OR end_date > {idx})) AS registered,
        -- for_patient_on: started on/before and not ended before (ending ON
        -- the date still counts), last by (start, end with NULL first,
        -- practice). The greatest sort key, as a struct, is that row.
        max({{'s': start_date, 'has_end': end_date IS NOT NULL,
              'e': coalesce(end_date, DATE '0001-01-01'), 'p': practice_pseudo_id}})
            FILTER (WHERE start_date <= {idx} AND (end_date IS NULL OR end_date >= {idx}))
            AS practice_key
    FROM practice_registrations
    GROUP BY patient_id
),
clinical AS (
    SELECT
        e.patient_id,
        -- diabetes_events: where(date < index); NULL dates fail the where.
        min(e.date) FILTER (WHERE f.is_dm AND e.date < {idx}) AS diabetes_first_date,
        max(e.date) FILTER (WHERE f.is_dm AND e.date < {idx}) AS diabetes_last_date,
        count(*) FILTER (WHERE f.is_dm AND e.date < {idx}) AS diabetes_count,
        -- last by (date, numeric_value) with NULL sorting first: the greatest
        -- sort key, as a struct in which a NULL value ranks below any recorded
        -- value on the same day. Its value is the answer (NULL if unrecorded).
        max({{'d': e.date, 'has_value': e.numeric_value IS NOT NULL,
              'v': coalesce(e.numeric_value, 0)}})
            FILTER (WHERE f.is_dm AND e.date < {idx}) AS diabetes_last_key,
        avg(e.numeric_value) FILTER (WHERE f.is_dm AND e.date < {idx}) AS diabetes_mean_value,
        -- oa_events: except_where(date > index) keeps undated rows.
        count(*) FILTER (WHERE f.is_oa AND (e.date IS NULL OR e.date <= {idx})) AS oa_rows,
        -- first by date with NULL first: NULL if there is any undated OA row.
        CASE
            WHEN bool_or(f.is_oa AND e.date IS NULL) THEN NULL
            ELSE min(e.date) FILTER (WHERE f.is_oa AND e.date <= {idx})
        END AS oa_first_date,
        count(*) FILTER (WHERE f.is_oa AND e.date BETWEEN {oa_from} AND {idx}) AS oa_count_2y
    FROM clinical_events AS e
    JOIN snomed_flags AS f ON e.snomedct_code = f.code
    GROUP BY e.patient_id
),
meds AS (
    SELECT
        m.patient_id,
        count(*) FILTER (WHERE f.is_nsaid AND m.date BETWEEN {nsaid_from} AND {idx})
            AS nsaid_count_1y,
        -- last by date after where(date <= index): dates are non-NULL, so max.
        max(m.date) FILTER (WHERE f.is_nsaid AND m.date <= {idx}) AS nsaid_last_date,
        min(m.date) FILTER (WHERE f.is_opioid AND m.date >= {idx}) AS opioid_first_date,
        count(*) FILTER (WHERE f.is_opioid AND m.date < {idx}) AS opioid_count,
        count(*) FILTER (WHERE f.is_opioid AND m.date BETWEEN {opioid_from} AND {idx})
            AS opioid_90d_rows
    FROM medications AS m
    JOIN dmd_flags AS f ON m.dmd_code = f.code
    GROUP BY m.patient_id
)
SELECT
    p.patient_id,
    p.age,
    p.sex,
    c.diabetes_first_date,
    c.diabetes_last_date,
    coalesce(c.diabetes_count, 0) AS diabetes_count,
    CASE WHEN c.diabetes_last_key.has_value THEN c.diabetes_last_key.v END
        AS diabetes_last_value,
    c.diabetes_mean_value,
    coalesce(c.oa_rows, 0) > 0 AS has_osteoarthritis,
    c.oa_first_date,
    coalesce(c.oa_count_2y, 0) AS oa_count_2y,
    coalesce(m.nsaid_count_1y, 0) AS nsaid_count_1y,
    m.nsaid_last_date,
    m.opioid_first_date,
    coalesce(m.opioid_count, 0) AS opioid_count,
    coalesce(m.opioid_90d_rows, 0) > 0 AS opioid_last_90d,
    p.date_of_death,
    d.patient_id IS NOT NULL AS died,  -- ons_deaths has at most one row per patient
    d.underlying_cause_of_death,
    r.practice_key.p AS practice_id,
    r.registration_count
FROM people AS p
JOIN registrations AS r ON r.patient_id = p.patient_id
LEFT JOIN clinical AS c ON c.patient_id = p.patient_id
LEFT JOIN meds AS m ON m.patient_id = p.patient_id
LEFT JOIN ons_deaths AS d ON d.patient_id = p.patient_id
WHERE r.registered AND p.age BETWEEN 18 AND 100
"""


def run_baseline(
    con: duckdb.DuckDBPyConnection,
    output: Path,
    codelist_dir: Path = CODELIST_DIR,
    index_date: date = INDEX_DATE,
) -> int:
    """Write the cohort to ``output`` (Parquet) through ``con``; return the row count."""
    sql = baseline_sql(codelist_dir, index_date)
    result = con.execute(f"COPY ({sql}) TO {_path(Path(output))} (FORMAT parquet)").fetchone()
    return int(result[0]) if result else -1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the hand-written cohort baseline.")
    parser.add_argument("--db", type=Path, help="DuckDB file holding the core tables")
    parser.add_argument("--output", type=Path, help="Parquet file to write")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--codelist-dir", type=Path, default=CODELIST_DIR)
    parser.add_argument("--print-sql", action="store_true", help="print the SQL and exit")
    args = parser.parse_args(argv)

    if args.print_sql:
        print(baseline_sql(args.codelist_dir))
        return 0
    if args.db is None or args.output is None:
        parser.error("--db and --output are required unless --print-sql is given")

    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect(str(args.db), read_only=True)
    con.execute(f"SET threads = {int(args.threads)}")
    rows = run_baseline(con, args.output, args.codelist_dir)
    con.close()
    print(json.dumps({"rows": rows, "query_seconds": time.perf_counter() - t0}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
