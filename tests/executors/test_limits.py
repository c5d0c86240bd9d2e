"""Resource limits, tested as attacks: each action below tries to take more than its share of
the machine, and must be stopped, reported with the limit it passed, and leave nothing behind.

Every attacker first writes a file matching its declared output, so "nothing kept" is shown
to mean something: without the breach that file would have been copied into the workspace.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from fedsafe.executors.limits import ResourceLimits, describe_breach, format_bytes
from fedsafe.executors.local import ActionJob, ActionResult, run_action

MiB = 1024 * 1024
GiB = 1024 * MiB

# Generous everywhere but the limit under test, so that only it can stop the action; a wall
# clock well short of pytest's patience, so a broken limit fails the test instead of hanging.
ROOMY = ResourceLimits(
    cpu_seconds=600,
    memory_bytes=4 * GiB,
    output_file_bytes=256 * MiB,
    output_total_bytes=1 * GiB,
    output_files=1000,
    wall_seconds=120,
)

PARTIAL = """\
import pathlib
pathlib.Path("output/partial.csv").write_text("patient_id\\n1\\n")
"""


def limits(**changes: int) -> ResourceLimits:
    return ResourceLimits(**{**ROOMY.as_json(), **changes})


def run_script(
    tmp_path: Path,
    script: str,
    limits: ResourceLimits,
    *,
    runtime: str = "python:v1",
    name: str = "attack.py",
    outputs: tuple[str, ...] = ("output/*.csv",),
    inputs: dict[str, str] | None = None,
) -> tuple[ActionResult, Path]:
    workspace = tmp_path / "workspace"
    (workspace / "analysis").mkdir(parents=True)
    (workspace / "analysis" / name).write_text(script)
    for path, text in (inputs or {}).items():
        (workspace / path).parent.mkdir(parents=True, exist_ok=True)
        (workspace / path).write_text(text)
    job = ActionJob(
        name="attack",
        runtime=runtime,
        args=(f"analysis/{name}",),
        config=None,
        patterns=tuple((pattern, "highly_sensitive") for pattern in outputs),
        code_files=(f"analysis/{name}",),
        inputs=tuple(inputs or ()),
        previous_outputs=(),
        workspace=workspace,
        log_path=workspace / "metadata" / "attack.log",
        limits=limits,
    )
    return run_action(job), workspace


def assert_stopped_for(result: ActionResult, workspace: Path, limit: str, used: ResourceLimits):
    assert result.limit == limit, (result.error, log_of(workspace)[-2000:])
    assert result.error == describe_breach(limit, used)
    assert result.kept == ()
    assert not (workspace / "output").exists()  # not even the file it wrote before the attack
    assert f"error: {result.error}" in log_of(workspace)


def log_of(workspace: Path) -> str:
    return (workspace / "metadata" / "attack.log").read_text(errors="replace")


def test_an_action_spinning_the_cpu_forever_is_stopped(tmp_path: Path) -> None:
    used = limits(cpu_seconds=2)
    result, workspace = run_script(tmp_path, PARTIAL + "while True:\n    pass\n", used)
    assert_stopped_for(result, workspace, "cpu_seconds", used)
    assert result.error.startswith("the action used more than 2 s of CPU time, the backend's")


def test_catching_the_cpu_warning_signal_does_not_help(tmp_path: Path) -> None:
    script = PARTIAL + (
        "import signal\n"
        "signal.signal(signal.SIGXCPU, lambda *_: print('ignoring SIGXCPU', flush=True))\n"
        "while True:\n    pass\n"
    )
    used = limits(cpu_seconds=2)
    result, workspace = run_script(tmp_path, script, used)
    assert_stopped_for(result, workspace, "cpu_seconds", used)
    assert "ignoring SIGXCPU" in log_of(workspace)  # it really tried


def test_cpu_time_spread_over_child_processes_counts_in_total(tmp_path: Path) -> None:
    # Each child stays under the per-process limit; together they pass it.
    script = PARTIAL + (
        "import os, time\n"
        "for _ in range(6):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        end = time.process_time() + 1.5\n"
        "        while time.process_time() < end:\n"
        "            pass\n"
        "        os._exit(0)\n"
        "    os.waitpid(pid, 0)\n"
        "time.sleep(600)\n"
    )
    used = limits(cpu_seconds=4)
    result, workspace = run_script(tmp_path, script, used)
    assert_stopped_for(result, workspace, "cpu_seconds", used)


def test_an_action_allocating_10_gb_is_refused_and_stopped(tmp_path: Path) -> None:
    script = PARTIAL + "hoard = bytearray(10 * 1024**3)\nprint('allocated', flush=True)\n"
    used = limits(memory_bytes=512 * MiB)
    result, workspace = run_script(tmp_path, script, used)
    assert_stopped_for(result, workspace, "memory_bytes", used)
    assert "at most 512 MiB" in result.error
    assert "allocated" not in log_of(workspace)
    assert "MemoryError" in log_of(workspace)


def test_an_action_writing_a_2_gb_file_is_stopped_at_the_limit(tmp_path: Path) -> None:
    script = PARTIAL + (
        "chunk = b'x' * (1024 * 1024)\n"
        "with open('output/huge.csv', 'wb') as f:\n"
        "    for _ in range(2048):\n"
        "        f.write(chunk)\n"
        "print('wrote 2 GB', flush=True)\n"
    )
    used = limits(output_file_bytes=10 * MiB)
    result, workspace = run_script(tmp_path, script, used)
    assert_stopped_for(result, workspace, "output_file_bytes", used)
    assert "a file larger than 10 MiB" in result.error
    log = log_of(workspace)
    assert "wrote 2 GB" not in log
    assert "File too large" in log  # the kernel refused the write at the limit, not the disk


def test_a_runaway_log_is_stopped_at_the_file_limit_too(tmp_path: Path) -> None:
    script = PARTIAL + "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n"
    used = limits(output_file_bytes=4 * MiB)
    result, workspace = run_script(tmp_path, script, used)
    assert_stopped_for(result, workspace, "output_file_bytes", used)
    assert (workspace / "metadata/attack.log").stat().st_size < 5 * MiB


def test_an_action_writing_100k_files_is_stopped(tmp_path: Path) -> None:
    # It sleeps afterwards, so only the executor's watch (not its exit) can end it in time.
    script = PARTIAL + (
        "import pathlib, time\n"
        "for i in range(100_000):\n"
        "    pathlib.Path(f'output/part{i}.csv').write_text('n\\n1\\n')\n"
        "print('wrote them all', flush=True)\n"
        "time.sleep(600)\n"
    )
    used = limits(output_files=1000)
    result, workspace = run_script(tmp_path, script, used)
    assert_stopped_for(result, workspace, "output_files", used)
    assert result.error.startswith("the action wrote more than 1,000 files and folders")
    assert result.undeclared == ()  # no hundred thousand warnings either


def test_an_action_writing_too_much_in_all_is_stopped(tmp_path: Path) -> None:
    script = PARTIAL + (
        "import os, time\n"
        "for i in range(20):\n"
        "    with open(f'output/part{i}.csv', 'wb') as f:\n"
        "        f.write(os.urandom(1024 * 1024))\n"
        "time.sleep(600)\n"
    )
    used = limits(output_file_bytes=2 * MiB, output_total_bytes=5 * MiB)
    result, workspace = run_script(tmp_path, script, used)
    assert_stopped_for(result, workspace, "output_total_bytes", used)
    assert "more than 5 MiB in all" in result.error


def test_files_hidden_in_an_unreadable_folder_still_count(tmp_path: Path) -> None:
    script = PARTIAL + (
        "import os, pathlib, time\n"
        "pathlib.Path('hidden').mkdir()\n"
        "for i in range(50):\n"
        "    pathlib.Path(f'hidden/f{i}').write_text('x')\n"
        "os.chmod('hidden', 0)\n"
        "time.sleep(600)\n"
    )
    used = limits(output_files=20)
    result, workspace = run_script(tmp_path, script, used)
    assert_stopped_for(result, workspace, "output_files", used)


def test_an_action_sleeping_past_the_wall_clock_is_stopped(tmp_path: Path) -> None:
    script = PARTIAL + "import time\ntime.sleep(3600)\nprint('woke up', flush=True)\n"
    used = limits(wall_seconds=2)
    result, workspace = run_script(tmp_path, script, used)
    assert_stopped_for(result, workspace, "wall_seconds", used)
    assert result.error.startswith("the action ran for longer than 2 s, the backend's limit")
    assert "woke up" not in log_of(workspace)


def test_processes_it_leaves_behind_are_stopped_with_it(tmp_path: Path) -> None:
    script = PARTIAL + (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    print('child', os.getpid(), flush=True)\n"
        "    time.sleep(3600)\n"
        "    os._exit(0)\n"
        "time.sleep(3600)\n"
    )
    used = limits(wall_seconds=2)
    result, workspace = run_script(tmp_path, script, used)
    assert_stopped_for(result, workspace, "wall_seconds", used)
    (line,) = [x for x in log_of(workspace).splitlines() if x.startswith("child ")]
    cmdline = Path(f"/proc/{line.split()[1]}/cmdline")
    assert not cmdline.exists() or b"attack.py" not in cmdline.read_bytes()


def test_a_process_that_starts_its_own_session_is_stopped_with_it(tmp_path: Path) -> None:
    # A new session escapes a kill of the action's process group; it must not escape the end
    # of the action.
    script = PARTIAL + (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        print('escaped', os.getpid(), flush=True)\n"
        "        time.sleep(3600)\n"
        "    os._exit(0)\n"
        "time.sleep(3600)\n"
    )
    name = f"attack{uuid.uuid4().hex}.py"  # to find its processes by, whatever their ids
    used = limits(wall_seconds=3)
    result, workspace = run_script(tmp_path, script, used, name=name)
    assert_stopped_for(result, workspace, "wall_seconds", used)
    assert "escaped" in log_of(workspace)  # it really got that far
    survivors = [p for p in os.listdir("/proc") if p.isdigit() and name.encode() in _cmdline(p)]
    assert survivors == []


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_an_r_action_spinning_the_cpu_is_stopped_too(tmp_path: Path) -> None:
    script = 'writeLines("patient_id\\n1", "output/partial.csv")\nrepeat {}\n'
    used = limits(cpu_seconds=2)
    result, workspace = run_script(tmp_path, script, used, runtime="r:v1", name="attack.R")
    assert_stopped_for(result, workspace, "cpu_seconds", used)


def test_within_its_limits_an_action_keeps_its_outputs(tmp_path: Path) -> None:
    script = PARTIAL + (
        "import json, pathlib, resource\n"
        "names = ['RLIMIT_CPU', 'RLIMIT_AS', 'RLIMIT_FSIZE', 'RLIMIT_CORE']\n"
        "seen = {n: resource.getrlimit(getattr(resource, n)) for n in names}\n"
        "pathlib.Path('output/limits.json').write_text(json.dumps(seen))\n"
    )
    used = limits(cpu_seconds=300, memory_bytes=3 * GiB, output_file_bytes=100 * MiB)
    result, workspace = run_script(
        tmp_path, script, used, outputs=("output/*.csv", "output/limits.json")
    )
    assert result.succeeded, result.error
    assert result.kept == ("output/limits.json", "output/partial.csv")
    seen = json.loads((workspace / "output/limits.json").read_text())
    assert seen == {
        "RLIMIT_CPU": [300, 302],  # SIGXCPU at the limit, SIGKILL two seconds later
        "RLIMIT_AS": [3 * GiB, 3 * GiB],
        "RLIMIT_FSIZE": [100 * MiB + 1, 100 * MiB + 1],
        "RLIMIT_CORE": [0, 0],
    }


def test_an_input_larger_than_the_file_limit_is_not_a_breach(tmp_path: Path) -> None:
    script = "import pathlib\npathlib.Path('output/n.csv').write_text('n\\n1\\n')\n"
    used = limits(output_file_bytes=1 * MiB, output_total_bytes=2 * MiB)
    big = "x" * (3 * MiB)
    result, _ = run_script(tmp_path, script, used, inputs={"released/big.csv": big})
    assert result.succeeded, result.error
    assert result.kept == ("output/n.csv",)


def test_the_wrapper_limits_fedsafes_own_runtime_too(tmp_path: Path) -> None:
    # fedsafe:v1 is not sandboxed (it confines definitions itself) but runs under the limits.
    from fedsafe.executors.local import _wrapper

    spec = {"limits": limits(cpu_seconds=77, memory_bytes=2 * GiB).as_json()}
    probe = "import resource as r; print(r.getrlimit(r.RLIMIT_CPU)[0], r.getrlimit(r.RLIMIT_AS)[0])"
    done = subprocess.run(
        [*_wrapper(), json.dumps(spec), "--", sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["77", str(2 * GiB)]


@pytest.mark.parametrize(
    ("size", "text"),
    [(512 * MiB, "512 MiB"), (10 * GiB, "10 GiB"), (1536 * MiB, "1536 MiB"), (100, "100 bytes")],
)
def test_sizes_are_written_as_an_operator_would(size: int, text: str) -> None:
    assert format_bytes(size) == text


def test_a_limit_must_be_a_positive_whole_number() -> None:
    with pytest.raises(ValueError, match="cpu_seconds must be a positive whole number"):
        ResourceLimits(cpu_seconds=0)
    with pytest.raises(ValueError, match="output_file_bytes must not exceed output_total_bytes"):
        ResourceLimits(output_file_bytes=2 * GiB, output_total_bytes=1 * GiB)


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to an ordinary user needs root")
def test_for_an_ordinary_user_the_wrapper_still_isolates_the_processes(tmp_path: Path) -> None:
    # An agent need not run as root: then the PID namespace comes with a user namespace.
    from fedsafe.executors.local import _wrapper

    tmp_path.chmod(0o777)
    spec = {"limits": limits(cpu_seconds=50).as_json(), "read": [str(tmp_path)], "write": []}
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = ["/bin/sh", "-c", "echo $$; id -u; ulimit -t"]
    done = subprocess.run(
        [*as_nobody, *_wrapper(), json.dumps(spec), "--", *probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert done.stdout.split() == ["1", "65534", "50"]  # init of its own namespace, limited
    assert "warning" not in done.stderr


DRIVER = """\
import sys
from pathlib import Path
from fedsafe.executors.local import ActionJob, run_action

workspace = Path(sys.argv[1])
name = sys.argv[2]
run_action(ActionJob(
    name="attack", runtime="python:v1", args=(f"analysis/{name}",), config=None,
    patterns=(("output/*.csv", "highly_sensitive"),), code_files=(f"analysis/{name}",),
    inputs=(), previous_outputs=(), workspace=workspace,
    log_path=workspace / "metadata" / "attack.log",
))
"""


def test_an_action_dies_with_the_executor_even_when_it_is_killed(tmp_path: Path) -> None:
    # An agent killed with SIGKILL cannot stop its action; the kernel must, so no action runs
    # on unwatched, past its limits, or twice once the agent restarts.
    import fedsafe

    name = f"attack{uuid.uuid4().hex}.py"
    workspace = tmp_path / "workspace"
    (workspace / "analysis").mkdir(parents=True)
    (workspace / "analysis" / name).write_text(
        PARTIAL + "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    time.sleep(3600)\n"
        "print('ready', flush=True)\n"
        "time.sleep(3600)\n"
    )
    (tmp_path / "driver.py").write_text(DRIVER)
    source = str(Path(fedsafe.__file__).resolve().parents[1])
    driver = subprocess.Popen(
        [sys.executable, str(tmp_path / "driver.py"), str(workspace), name],
        env={**os.environ, "PYTHONPATH": source},
    )
    try:
        log = workspace / "metadata" / "attack.log"
        assert _eventually(lambda: log.exists() and "ready" in log.read_text(), driver)
        running = set(_processes_named(name)) - {str(driver.pid)}
        assert len(running) == 3  # the wrapper, the action and the child it hid away
        # The executor cannot remove its scratch folder once killed; the test does.
        scratch = Path(os.readlink(f"/proc/{min(running, key=int)}/cwd")).parent
    finally:
        driver.kill()
        driver.wait()
    assert _eventually(lambda: _processes_named(name) == [])
    assert scratch.name.startswith("fedsafe-attack-")
    shutil.rmtree(scratch)


def _processes_named(name: str) -> list[str]:
    return [p for p in os.listdir("/proc") if p.isdigit() and name.encode() in _cmdline(p)]


def _eventually(check, driver: subprocess.Popen | None = None) -> bool:
    """Wait (up to a minute, a limit on patience rather than a timing check) for ``check``."""
    import time

    for _ in range(600):
        if check():
            return True
        if driver is not None and driver.poll() is not None:
            return check()
        time.sleep(0.1)
    return check()
