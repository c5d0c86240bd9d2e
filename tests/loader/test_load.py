import io
import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent

import pytest

from fedsafe.errors import DefinitionError
from fedsafe.loader import DefinitionLoadError, LoadedDefinition, load_dataset_definition
from fedsafe.loader.load import _parse_reply
from fedsafe.query_model import nodes

# A definition that loads on the core tables, written as a published ehrQL definition would be.
GOOD_DEFINITION = """\
from ehrql import create_dataset
from ehrql.tables.core import patients

dataset = create_dataset()
dataset.define_population(patients.exists_for_patient())
dataset.sex = patients.sex
"""


@dataclass(frozen=True)
class Project:
    """A researcher's project folder, with helpers to write and load definitions in it."""

    root: Path

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def definition(self, text: str, name: str = "analysis/dataset_definition.py") -> Path:
        return self.write(name, text)

    def load(
        self, path: Path | str = "analysis/dataset_definition.py", **kwargs
    ) -> LoadedDefinition:
        kwargs.setdefault("project_dir", self.root)
        return load_dataset_definition(self.root / path, **kwargs)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "project"
    root.mkdir()
    return Project(root)


# ---------------------------------------------------------------------------------------------
# Loading


def test_loads_a_definition(project: Project) -> None:
    project.definition(GOOD_DEFINITION)
    loaded = project.load()
    assert isinstance(loaded.dataset, nodes.Dataset)
    assert [name for name, _ in loaded.dataset.variables] == ["sex"]
    assert loaded.definition_path == project.root / "analysis" / "dataset_definition.py"
    assert loaded.dummy_data_config["population_size"] >= 1


def test_fedsafe_imports_work_too(project: Project) -> None:
    project.definition(GOOD_DEFINITION.replace("ehrql", "fedsafe"))
    assert project.load().dataset.variables[0][0] == "sex"


def test_relative_path_is_from_the_current_folder(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.definition(GOOD_DEFINITION)
    monkeypatch.chdir(project.root)
    loaded = load_dataset_definition(Path("analysis/dataset_definition.py"))
    assert loaded.definition_path == project.root / "analysis" / "dataset_definition.py"


def test_params_pass_through(project: Project) -> None:
    project.definition(
        GOOD_DEFINITION
        + """
from ehrql import get_parameter
dataset.configure_dummy_data(population_size=get_parameter("size", type=int))
assert get_parameter("name") == "a=b c", get_parameter("name")
"""
    )
    loaded = project.load(params={"size": "7", "name": "a=b c"})
    assert loaded.dummy_data_config["population_size"] == 7


def test_missing_param_is_a_definition_error(project: Project) -> None:
    project.definition(GOOD_DEFINITION + 'from ehrql import get_parameter\nget_parameter("x")\n')
    with pytest.raises(DefinitionLoadError, match=r"line 8: ValueError: Parameter 'x' was not"):
        project.load()


def test_print_does_not_break_loading(project: Project) -> None:
    project.definition(
        dedent("""\
        import os, sys, subprocess
        print("hello from print")
        print('{"protocol": 1, "ok": false}')
        sys.stdout.write("written to sys.stdout\\n")
        os.write(1, b"written to file descriptor 1\\n")
        subprocess.run(["echo", "from a subprocess"], check=True)
        print("to stderr", file=sys.stderr)
        """)
        + GOOD_DEFINITION
    )
    relayed = io.StringIO()
    loaded = project.load(stderr=relayed)
    assert loaded.dataset.variables[0][0] == "sex"
    output = relayed.getvalue()
    for text in (
        "hello from print",
        "written to sys.stdout",
        "written to file descriptor 1",
        "from a subprocess",
        "to stderr",
    ):
        assert text in output


def test_reads_a_codelist_in_the_project(project: Project) -> None:
    # The first lines of a real OpenCodelists download (nhsd-primary-care-domain-refsets-dm_cod).
    text = (
        "code,term\n"
        "111552007,Diabetes mellitus without complication\n"
        "112991000000101,Lipoatrophic diabetes mellitus without complication\n"
    )
    project.write("codelists/diabetes.csv", text)
    project.definition(
        dedent("""\
        from ehrql import codelist_from_csv, create_dataset
        from ehrql.tables.core import clinical_events, patients

        diabetes = codelist_from_csv("codelists/diabetes.csv", column="code")
        dataset = create_dataset()
        dataset.define_population(patients.exists_for_patient())
        dataset.has_diabetes = clinical_events.where(
            clinical_events.snomedct_code.is_in(diabetes)
        ).exists_for_patient()
        """)
    )
    assert project.load().dataset.variables[0][0] == "has_diabetes"


def test_file_is_the_definition_and_its_folder_is_importable(project: Project) -> None:
    project.write("analysis/variables_lib.py", "def sex(patients):\n    return patients.sex\n")
    project.write("analysis/note.txt", "sex_variable\n")
    project.definition(
        dedent("""\
        from pathlib import Path
        from ehrql import create_dataset
        from ehrql.tables.core import patients
        from variables_lib import sex

        name = (Path(__file__).parent / "note.txt").read_text().strip()
        dataset = create_dataset()
        dataset.define_population(patients.exists_for_patient())
        dataset.add_column(name, sex(patients))
        """)
    )
    assert project.load().dataset.variables[0][0] == "sex_variable"


def test_definition_can_use_its_temporary_folder(project: Project) -> None:
    project.definition(
        dedent("""\
        import os, tempfile
        with tempfile.NamedTemporaryFile("w") as f:
            f.write("scratch")
        open(os.path.expanduser("~/scratch.txt"), "w").write("ok")
        """)
        + GOOD_DEFINITION
    )
    assert [name for name, _ in project.load().dataset.variables] == ["sex"]


# ---------------------------------------------------------------------------------------------
# Isolation


def test_database_url_is_not_in_the_environment(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://user:secret@db/prod")
    monkeypatch.setenv("FEDSAFE_BACKEND_TOKEN", "secret-token")
    project.definition(
        dedent("""\
        import os

        url = os.environ["DATABASE_URL"]
        """)
    )
    with pytest.raises(DefinitionLoadError) as info:
        project.load()
    assert str(info.value) == (
        "analysis/dataset_definition.py, line 3: KeyError: 'DATABASE_URL'\n"
        '    url = os.environ["DATABASE_URL"]'
    )
    assert info.value.line == 3


def test_environment_is_only_the_allow_list(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEDSAFE_SECRET", "secret")
    project.definition('import os\nraise RuntimeError(",".join(sorted(os.environ)))\n')
    with pytest.raises(DefinitionLoadError) as info:
        project.load()
    assert "RuntimeError: HOME,LANG,LC_ALL,PATH,PYTHONHASHSEED,TMPDIR\n" in str(info.value)


def test_parent_environment_cannot_be_read_from_proc(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://user:secret@db/prod")
    project.definition('import os\nopen(f"/proc/{os.getppid()}/environ", "rb").read()\n')
    with pytest.raises(DefinitionLoadError, match="PermissionError"):
        project.load()


@pytest.fixture
def database_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB database outside the project, as the parent would be pointed at with --dsn."""
    import duckdb

    path = tmp_path_factory.mktemp("backend") / "data.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table patients (patient_id bigint)")
    return path


def test_cannot_open_the_database_file(project: Project, database_file: Path) -> None:
    project.definition(f'data = open("{database_file}", "rb").read()\n')
    with pytest.raises(DefinitionLoadError) as info:
        project.load()
    assert str(info.value).startswith(
        f"analysis/dataset_definition.py, line 1: PermissionError: [Errno 13] Permission denied: "
        f"'{database_file}'"
    )


def test_cannot_open_the_database_with_duckdb(project: Project, database_file: Path) -> None:
    project.definition(f'import duckdb\nduckdb.connect("{database_file}", read_only=True)\n')
    with pytest.raises(DefinitionLoadError, match=r"line 2: .*(Permission denied|IO Error)"):
        project.load()


def test_cannot_list_other_folders(project: Project, database_file: Path) -> None:
    project.definition(f'import os\nos.listdir("{database_file.parent}")\n')
    with pytest.raises(DefinitionLoadError, match="PermissionError"):
        project.load()


def test_cannot_write_into_the_project(project: Project) -> None:
    project.definition('open("analysis/leak.csv", "w").write("data")\n')
    with pytest.raises(DefinitionLoadError, match="PermissionError"):
        project.load()
    assert not (project.root / "analysis" / "leak.csv").exists()


def test_cannot_connect_over_tcp(project: Project) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        project.definition(
            f'import socket\nsocket.create_connection(("127.0.0.1", {port}), timeout=5)\n'
        )
        with pytest.raises(DefinitionLoadError) as info:
            project.load()
        assert "line 2: " in str(info.value)
        assert "Error" in str(info.value)  # PermissionError or an unreachable network
        listener.settimeout(0.2)
        with pytest.raises(TimeoutError):
            listener.accept()


def test_cannot_connect_to_a_unix_socket(project: Project, tmp_path: Path) -> None:
    # A database listening on a socket file (as PostgreSQL does) is not behind the network.
    path = tmp_path / "db.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(path))
        listener.listen()
        project.definition(
            "import socket\n"
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
            f's.connect("{path}")\n'
        )
        with pytest.raises(DefinitionLoadError, match="PermissionError"):
            project.load()
        listener.settimeout(0.2)
        with pytest.raises(TimeoutError):
            listener.accept()


# ---------------------------------------------------------------------------------------------
# Bad input


def test_missing_file(project: Project) -> None:
    with pytest.raises(DefinitionError, match=r"dataset definition .*nope.py does not exist"):
        project.load("analysis/nope.py")


def test_not_a_python_file(project: Project) -> None:
    project.write("analysis/dataset_definition.txt", GOOD_DEFINITION)
    with pytest.raises(DefinitionError, match=r"is not a Python file: its name must end in \.py"):
        project.load("analysis/dataset_definition.txt")


def test_a_folder(project: Project) -> None:
    (project.root / "analysis.py").mkdir()
    with pytest.raises(DefinitionError, match="is not a file"):
        project.load("analysis.py")


def test_missing_project_folder(project: Project) -> None:
    project.definition(GOOD_DEFINITION)
    with pytest.raises(DefinitionError, match=r"project folder .* does not exist"):
        project.load(project_dir=project.root / "nope")


def test_syntax_error(project: Project) -> None:
    project.definition(GOOD_DEFINITION + "\ndataset.age = (patients.sex\n")
    with pytest.raises(DefinitionLoadError) as info:
        project.load()
    message = str(info.value)
    assert message.startswith("analysis/dataset_definition.py, line 8: SyntaxError: ")
    assert message.endswith("\n    dataset.age = (patients.sex")
    assert "Traceback" not in message


def test_exception_while_running(project: Project) -> None:
    project.definition(GOOD_DEFINITION + "dataset.age = patients.age_on(2020)\n")
    with pytest.raises(DefinitionLoadError) as info:
        project.load()
    assert str(info.value).startswith("analysis/dataset_definition.py, line 7: ")
    assert str(info.value).endswith("\n    dataset.age = patients.age_on(2020)")
    assert info.value.details and "Traceback" in info.value.details


def test_error_in_a_sibling_module_names_that_module(project: Project) -> None:
    project.write("analysis/helpers.py", "def broken():\n    return 1 / 0\n")
    project.definition("from helpers import broken\n\nbroken()\n")
    with pytest.raises(DefinitionLoadError) as info:
        project.load()
    assert str(info.value) == (
        "analysis/helpers.py, line 2: ZeroDivisionError: division by zero\n    return 1 / 0"
    )


def test_no_dataset_variable(project: Project) -> None:
    project.definition(
        GOOD_DEFINITION.replace("dataset =", "my_dataset =").replace("dataset.", "my_dataset.")
    )
    with pytest.raises(DefinitionLoadError) as info:
        project.load()
    assert str(info.value).startswith("analysis/dataset_definition.py: no variable named `dataset`")


def test_dataset_is_not_a_dataset(project: Project) -> None:
    project.definition("dataset = 42\n")
    with pytest.raises(DefinitionLoadError, match=r"`dataset` is a builtins\.int, not a Dataset"):
        project.load()


def test_no_population(project: Project) -> None:
    project.definition(
        "from ehrql import create_dataset\nfrom ehrql.tables.core import patients\n"
        "dataset = create_dataset()\ndataset.sex = patients.sex\n"
    )
    with pytest.raises(DefinitionLoadError) as info:
        project.load()
    assert str(info.value).startswith("analysis/dataset_definition.py: No population")


def test_tpp_schema_is_served(project: Project) -> None:
    project.definition(
        "from ehrql import create_dataset\n"
        "from ehrql.tables.tpp import patients, addresses\n"
        "dataset = create_dataset()\n"
        "dataset.define_population(patients.exists_for_patient())\n"
        "dataset.imd = addresses.for_patient_on('2020-01-01').imd_quintile\n"
    )
    loaded = project.load()
    assert set(nodes.tables_used(loaded.dataset)) == {"patients", "addresses"}


def test_table_missing_from_a_schema_is_named_with_what_the_schema_has(project: Project) -> None:
    project.definition("from ehrql.tables.tpp import patients, adresses\n")
    with pytest.raises(DefinitionLoadError) as info:
        project.load()
    message = str(info.value)
    assert message.startswith("analysis/dataset_definition.py, line 1: ehrql.tables.tpp has no ")
    assert "table 'adresses' (did you mean 'addresses'?)" in message
    assert "wl_openpathways" in message  # the list of what it has


def test_sys_exit(project: Project) -> None:
    project.definition("import sys\nsys.exit(0)\n")
    with pytest.raises(
        DefinitionLoadError, match=r"line 2: the dataset definition called sys.exit"
    ):
        project.load()


def test_child_killed(project: Project) -> None:
    project.definition("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    with pytest.raises(DefinitionLoadError, match="was killed by SIGKILL"):
        project.load()


def test_child_exits_without_a_reply(project: Project) -> None:
    project.definition("import os\nos._exit(3)\n")
    with pytest.raises(DefinitionLoadError, match=r"failed \(exit status 3\) without saying why"):
        project.load()


def test_timeout(project: Project) -> None:
    project.definition("while True:\n    pass\n")
    with pytest.raises(DefinitionLoadError, match=r"took longer than 1\.5 s and was stopped"):
        project.load(timeout=1.5)


def test_timeout_stops_what_the_definition_started(project: Project, tmp_path: Path) -> None:
    project.definition(
        "import subprocess, time\n"
        'child = subprocess.Popen(["sleep", "60"])\n'
        'print(f"PID={child.pid}", flush=True)\n'
        "time.sleep(60)\n"
    )
    relayed = io.StringIO()
    with pytest.raises(DefinitionLoadError, match="took longer"):
        project.load(timeout=1.5, stderr=relayed)
    pid = int(relayed.getvalue().split("PID=")[1].split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _is_running(pid):
        time.sleep(0.05)
    assert not _is_running(pid)


def _is_running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "zombie" not in status


def test_garbage_on_the_reply_channel(project: Project) -> None:
    # The definition finds the loader's private reply descriptor and writes nonsense to it.
    project.definition(
        "import os, stat\n"
        "for fd in range(3, 64):\n"
        "    try:\n"
        "        if stat.S_ISFIFO(os.fstat(fd).st_mode):\n"
        "            os.write(fd, b'not json at all')\n"
        "    except OSError:\n"
        "        pass\n"
        "os._exit(0)\n"
    )
    with pytest.raises(DefinitionLoadError, match="not a valid reply"):
        project.load()


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\xff\xfe",
        b"[]",
        b'{"protocol": 2, "ok": true}',
        b'{"protocol": 1, "ok": true, "dataset": 5, "dummy_data_config": {}}',
        b'{"protocol": 1, "ok": "yes"}',
        b'{"protocol": 1, "ok": false, "error": "x"}',
    ],
)
def test_malformed_replies(raw: bytes, tmp_path: Path) -> None:
    with pytest.raises(DefinitionLoadError, match="not a valid reply"):
        _parse_reply(raw, tmp_path / "d.py", tmp_path, "d.py")


def test_forged_query_is_validated(tmp_path: Path) -> None:
    raw = json.dumps(
        {"protocol": 1, "ok": True, "dataset": '{"format": "nonsense"}', "dummy_data_config": {}}
    ).encode()
    with pytest.raises(DefinitionLoadError, match="the query the definition produced is not valid"):
        _parse_reply(raw, tmp_path / "d.py", tmp_path, "d.py")
