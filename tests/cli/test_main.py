import datetime
import gzip
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import fedsafe
from fedsafe.cli.main import app

FEDSAFE = Path(sys.executable).parent / "fedsafe"

DEFINITION = """\
from ehrql import create_dataset, get_parameter
from ehrql.tables.core import patients

dataset = create_dataset()
dataset.define_population(patients.date_of_birth.is_on_or_before("2000-01-01"))
dataset.sex = patients.sex
dataset.date_of_birth = patients.date_of_birth
dataset.died = patients.date_of_death.is_not_null()
print("definition says hello")
"""

PATIENTS_CSV = """\
patient_id,date_of_birth,sex,date_of_death
1,1980-01-01,female,
2,1990-05-01,male,2020-01-01
3,2010-01-01,unknown,
"""

EXPECTED_ROWS = [
    {
        "patient_id": 1,
        "sex": "female",
        "date_of_birth": datetime.date(1980, 1, 1),
        "died": False,
    },
    {
        "patient_id": 2,
        "sex": "male",
        "date_of_birth": datetime.date(1990, 5, 1),
        "died": True,
    },
]
EXPECTED_CSV = "patient_id,sex,date_of_birth,died\n1,female,1980-01-01,F\n2,male,1990-05-01,T\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A study folder, made the current folder as a researcher's would be."""
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis" / "dataset_definition.py").write_text(DEFINITION)
    (tmp_path / "dummy_tables").mkdir()
    (tmp_path / "dummy_tables" / "patients.csv").write_text(PATIENTS_CSV)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("backend") / "data.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create table patients (patient_id bigint, date_of_birth date, sex varchar, "
            "date_of_death date)"
        )
        con.execute(
            "insert into patients values (1, '1980-01-01', 'female', null), "
            "(2, '1990-05-01', 'male', '2020-01-01'), (3, '2010-01-01', 'unknown', null)"
        )
    return path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def read_rows(path: Path) -> list[dict]:
    if path.name.endswith(".parquet"):
        table = pq.read_table(path)
    else:
        with pa.ipc.open_file(path) as f:
            table = f.read_all()
    return table.sort_by("patient_id").to_pylist()


# ---------------------------------------------------------------------------------------------
# Happy paths


@pytest.mark.parametrize("extension", [".csv", ".csv.gz", ".arrow", ".feather", ".parquet"])
def test_generate_dataset_on_dummy_tables(project: Path, extension: str) -> None:
    output = Path("output") / f"dataset{extension}"
    result = invoke(
        "generate-dataset",
        "analysis/dataset_definition.py",
        "--output",
        str(output),
        "--dummy-tables",
        "dummy_tables",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "definition says hello" in result.stderr
    assert f"wrote 2 rows to {output} in " in result.stderr
    if extension == ".csv":
        assert output.read_text() == EXPECTED_CSV
    elif extension == ".csv.gz":
        assert gzip.decompress(output.read_bytes()).decode() == EXPECTED_CSV
    else:
        assert read_rows(output) == EXPECTED_ROWS


def test_generate_dataset_on_a_database(project: Path, database: Path) -> None:
    result = invoke(
        "generate-dataset",
        "analysis/dataset_definition.py",
        "--output",
        "dataset.parquet",
        "--dsn",
        f"duckdb://{database}",
    )
    assert result.exit_code == 0, result.output
    assert read_rows(project / "dataset.parquet") == EXPECTED_ROWS


def test_database_missing_a_column(project: Path, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("backend") / "data.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table patients (patient_id bigint, sex varchar)")
    result = invoke(
        "generate-dataset",
        "analysis/dataset_definition.py",
        "--output",
        "dataset.csv",
        "--dsn",
        f"duckdb://{path}",
    )
    assert result.exit_code == 2
    assert "table 'patients' has no column 'date_of_birth'" in result.stderr
    assert not (project / "dataset.csv").exists()


def test_params_reach_the_definition(project: Path) -> None:
    (project / "analysis" / "dataset_definition.py").write_text(
        DEFINITION.replace('"2000-01-01"', 'get_parameter("cutoff")')
    )
    result = invoke(
        "generate-dataset",
        "analysis/dataset_definition.py",
        "--output",
        "dataset.csv",
        "--dummy-tables",
        "dummy_tables",
        "--param",
        "cutoff=1985-01-01",
    )
    assert result.exit_code == 0, result.output
    assert (project / "dataset.csv").read_text().count("\n") == 2  # header and patient 1


def test_project_dir_is_where_the_definition_runs(project: Path, tmp_path_factory) -> None:
    (project / "codelists").mkdir()
    (project / "codelists" / "sexes.txt").write_text("female\n")
    (project / "analysis" / "dataset_definition.py").write_text(
        DEFINITION
        + "from pathlib import Path\n"
        + 'assert Path("codelists/sexes.txt").read_text() == "female\\n"\n'
    )
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    os.chdir(elsewhere)
    result = invoke(
        "generate-dataset",
        str(project / "analysis" / "dataset_definition.py"),
        "--output",
        "dataset.csv",
        "--dummy-tables",
        str(project / "dummy_tables"),
        "--project-dir",
        str(project),
    )
    assert result.exit_code == 0, result.output
    assert (elsewhere / "dataset.csv").exists()


def test_dump_dataset_sql(project: Path) -> None:
    result = invoke("dump-dataset-sql", "analysis/dataset_definition.py")
    assert result.exit_code == 0, result.output
    assert result.stdout.lstrip().upper().startswith(("SELECT", "WITH"))
    assert "patients" in result.stdout
    assert "definition says hello" not in result.stdout  # the definition's prints go to stderr


def test_dump_dataset_sql_in_another_dialect(project: Path) -> None:
    result = invoke("dump-dataset-sql", "analysis/dataset_definition.py", "--dialect", "postgres")
    assert result.exit_code == 0, result.output
    assert "SELECT" in result.stdout.upper()


# ---------------------------------------------------------------------------------------------
# Errors


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"fedsafe {fedsafe.__version__}\n"


@pytest.mark.parametrize("bad", ["cutoff", "=1985", "two words=x"])
def test_bad_param(project: Path, bad: str) -> None:
    result = invoke(
        "generate-dataset",
        "analysis/dataset_definition.py",
        "--output",
        "dataset.csv",
        "--dummy-tables",
        "dummy_tables",
        "--param",
        bad,
    )
    assert result.exit_code == 2
    assert result.stderr == f"error: --param {bad!r} is not of the form NAME=VALUE\n"


def test_repeated_param(project: Path) -> None:
    result = invoke(
        "dump-dataset-sql", "analysis/dataset_definition.py", "--param", "a=1", "--param", "a=2"
    )
    assert result.exit_code == 2
    assert "--param a is given more than once" in result.stderr


def test_missing_definition(project: Path) -> None:
    result = invoke(
        "generate-dataset",
        "analysis/nope.py",
        "--output",
        "dataset.csv",
        "--dummy-tables",
        "dummy_tables",
    )
    assert result.exit_code == 2
    assert result.stderr == "error: dataset definition analysis/nope.py does not exist\n"
    assert not (project / "dataset.csv").exists()


def test_syntax_error(project: Path) -> None:
    (project / "analysis" / "dataset_definition.py").write_text(DEFINITION + "dataset.x = (\n")
    result = invoke("dump-dataset-sql", "analysis/dataset_definition.py")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: analysis/dataset_definition.py, line 10: SyntaxError: ")
    assert "dataset.x = (" in result.stderr
    assert "Traceback" not in result.output


def test_syntax_error_with_debug_shows_the_traceback(project: Path) -> None:
    (project / "analysis" / "dataset_definition.py").write_text(DEFINITION + "dataset.x = (\n")
    result = invoke("--debug", "dump-dataset-sql", "analysis/dataset_definition.py")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr
    assert "error: analysis/dataset_definition.py, line 10: SyntaxError" in result.stderr


def test_exception_in_definition(project: Path) -> None:
    (project / "analysis" / "dataset_definition.py").write_text(
        DEFINITION + "import os\nos.environ['DATABASE_URL']\n"
    )
    result = invoke("dump-dataset-sql", "analysis/dataset_definition.py")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "error: analysis/dataset_definition.py, line 11: KeyError: 'DATABASE_URL'\n"
        "    os.environ['DATABASE_URL']\n"
    )
    assert result.stdout == ""


def test_unknown_dialect(project: Path) -> None:
    result = invoke("dump-dataset-sql", "analysis/dataset_definition.py", "--dialect", "oracle")
    assert result.exit_code == 2
    assert "unknown SQL dialect 'oracle': supported are duckdb, " in result.stderr
    assert result.stdout == ""


def test_unwritable_output(project: Path) -> None:
    (project / "somefile").write_text("in the way")
    result = invoke(
        "generate-dataset",
        "analysis/dataset_definition.py",
        "--output",
        "somefile/dataset.csv",
        "--dummy-tables",
        "dummy_tables",
    )
    assert result.exit_code == 2
    assert "cannot write somefile/dataset.csv: somefile is a file, not a folder" in result.stderr
    assert "definition says hello" not in result.stderr  # refused before running anything


def test_unknown_output_format(project: Path) -> None:
    result = invoke(
        "generate-dataset",
        "analysis/dataset_definition.py",
        "--output",
        "dataset.xlsx",
        "--dummy-tables",
        "dummy_tables",
    )
    assert result.exit_code == 2
    assert "unknown output format" in result.stderr and ".parquet" in result.stderr


def test_both_sources(project: Path, database: Path) -> None:
    result = invoke(
        "generate-dataset",
        "analysis/dataset_definition.py",
        "--output",
        "dataset.csv",
        "--dummy-tables",
        "dummy_tables",
        "--dsn",
        f"duckdb://{database}",
    )
    assert result.exit_code == 2
    assert result.stderr == "error: give only one of --dsn and --dummy-tables\n"
    assert not (project / "dataset.csv").exists()


def test_unknown_dsn_scheme(project: Path) -> None:
    result = invoke(
        "generate-dataset",
        "analysis/dataset_definition.py",
        "--output",
        "dataset.csv",
        "--dsn",
        "postgresql://user:secret@localhost/db",
    )
    assert result.exit_code == 2
    assert "unsupported database type 'postgresql'" in result.stderr
    assert "secret" not in result.output


def test_missing_database(project: Path) -> None:
    result = invoke(
        "generate-dataset",
        "analysis/dataset_definition.py",
        "--output",
        "dataset.csv",
        "--dsn",
        "duckdb://missing.duckdb",
    )
    assert result.exit_code == 2
    assert "DuckDB database missing.duckdb does not exist" in result.stderr


def test_missing_dummy_tables_folder(project: Path) -> None:
    result = invoke(
        "generate-dataset",
        "analysis/dataset_definition.py",
        "--output",
        "dataset.csv",
        "--dummy-tables",
        "nope",
    )
    assert result.exit_code == 2
    assert "dummy tables folder nope does not exist" in result.stderr


def test_bad_dummy_table_value(project: Path) -> None:
    (project / "dummy_tables" / "patients.csv").write_text(
        PATIENTS_CSV.replace("1990-05-01", "May 1990")
    )
    result = invoke(
        "generate-dataset",
        "analysis/dataset_definition.py",
        "--output",
        "dataset.csv",
        "--dummy-tables",
        "dummy_tables",
    )
    assert result.exit_code == 2
    assert (
        "error: dummy_tables/patients.csv, line 3, column date_of_birth: 'May 1990' is not a "
        "date (expected YYYY-MM-DD)"
    ) in result.stderr
    assert not (project / "dataset.csv").exists()


def test_internal_error_suggests_debug(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fedsafe.io.writers

    def broken(*args, **kwargs):
        raise RuntimeError("something fedsafe got wrong")

    monkeypatch.setattr(fedsafe.io.writers, "write_dataset", broken)
    args = [
        "generate-dataset",
        "analysis/dataset_definition.py",
        "--output",
        "dataset.csv",
        "--dummy-tables",
        "dummy_tables",
    ]
    result = invoke(*args)
    assert result.exit_code == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("error: unexpected internal error (RuntimeError: something")
    assert "--debug" in last_line
    assert "Traceback" not in result.stderr

    result = invoke("--debug", *args)
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)


# ---------------------------------------------------------------------------------------------
# The installed command


def run_fedsafe(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FEDSAFE), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_installed_command_generates_a_dataset(project: Path) -> None:
    result = run_fedsafe(
        "generate-dataset",
        "analysis/dataset_definition.py",
        "--output",
        "output/dataset.csv",
        "--dummy-tables",
        "dummy_tables",
        cwd=project,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert (project / "output" / "dataset.csv").read_text() == EXPECTED_CSV
    assert "wrote 2 rows to output/dataset.csv in " in result.stderr


def test_installed_command_reports_errors_without_tracebacks(project: Path) -> None:
    (project / "analysis" / "dataset_definition.py").write_text("dataset = (\n")
    result = run_fedsafe("dump-dataset-sql", "analysis/dataset_definition.py", cwd=project)
    assert result.returncode == 2
    assert result.stderr.startswith("error: analysis/dataset_definition.py, line 1: SyntaxError")
    assert "Traceback" not in result.stderr


def test_installed_command_version(tmp_path: Path) -> None:
    result = run_fedsafe("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == f"fedsafe {fedsafe.__version__}\n"
