"""Real database servers for tests: a throwaway PostgreSQL cluster and a local Spark session.

PostgreSQL is started from the machine's own ``initdb`` and ``pg_ctl`` (Debian's postgresql
package), in a fresh data folder, on a free port, and stopped at the end. PostgreSQL refuses to
run as root, so as root the cluster runs as the ``postgres`` user the package creates. Nothing
is mocked: if the binaries are missing the fixture fails and says how to install them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

PG_USER = "fedsafe"


def find_pg_bin() -> Path:
    """The folder holding initdb and pg_ctl: on PATH, or Debian's versioned folder."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if candidates:
        return Path(candidates[-1]).parent
    raise RuntimeError(
        "PostgreSQL's initdb/pg_ctl were not found: install them with "
        "`apt-get install -y postgresql` (make test does this)"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start a PostgreSQL server; yield a URL (no password: trust auth on localhost only)."""
    bin_dir = find_pg_bin()
    root = Path(tempfile.mkdtemp(prefix="fedsafe-pg-"))
    data = root / "data"
    port = _free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:
        import pwd

        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]

    def run(*args: str) -> None:
        subprocess.run(
            [*as_user, *args], check=True, cwd=root,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip

    try:
        run(
            str(bin_dir / "initdb"), "-D", str(data), "-U", PG_USER,
            "--auth=trust", "--encoding=UTF8", "--locale=C",
        )  # fmt: skip
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        options += " -c synchronous_commit=off -c full_page_writes=off"
        # As fedsafe's own connections do (backends.connect): LLVM's JIT spent many minutes
        # compiling a generated query's expressions in the differential test.
        options += " -c jit=off"
        # -l: the server's output goes to a file, not to our pipe (which would never close).
        log = str(root / "server.log")
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", log, "-o", options, "-w", "start")
        yield f"postgres://{PG_USER}@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def spark_session():  # -> pyspark.sql.SparkSession
    """One local Spark session for the whole test run: starting one costs seconds.

    Settings suit tiny test tables: one shuffle partition, no UI, UTC, and ANSI mode off so
    that Spark 4 behaves like the SQL engines on the edge cases our compiler already guards.
    """
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[1]")
        .appName("fedsafe-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .config("spark.ui.showConsoleProgress", "false")
        # Tiny tables: re-planning at run time and generating Java code cost more than they
        # save, and every stage is a scheduling round trip.
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.autoBroadcastJoinThreshold", "-1")
        # Tables go in a fresh folder, never ./spark-warehouse: a folder left there by a run
        # that crashed makes the next run fail with LOCATION_ALREADY_EXISTS.
        .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="fedsafe-spark-warehouse-"))
        .getOrCreate()
    )
