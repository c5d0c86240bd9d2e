"""The sandbox on its own, as the executor will use it: always applied in a separate process."""

import json
import subprocess
import sys
from pathlib import Path

from fedsafe.loader.sandbox import SandboxPolicy, child_environment, landlock_abi_version

PROBE = """
import json, os, socket, sys
from pathlib import Path
from fedsafe.loader import sandbox

if sys.argv[1] == "no-landlock":
    sandbox.landlock_abi_version = lambda *args: None
readable, writable, secret = (Path(p) for p in sys.argv[2:5])
status = sandbox.apply_sandbox(sandbox.SandboxPolicy.for_python(read=[readable], write=[writable]))

def attempt(action):
    try:
        action()
        return "ok"
    except OSError as exc:
        return type(exc).__name__

result = {
    "status": {
        "landlock_abi": status.landlock_abi,
        "network_namespace": status.network_namespace,
        "capabilities_dropped": status.capabilities_dropped,
        "seccomp": status.seccomp,
        "warnings": list(status.warnings),
    },
    "read_allowed": attempt(lambda: (readable / "in.txt").read_text()),
    "read_secret": attempt(lambda: secret.read_text()),
    "write_allowed": attempt(lambda: (writable / "out.txt").write_text("x")),
    "write_readable": attempt(lambda: (readable / "out.txt").write_text("x")),
    "unix_socket": attempt(lambda: socket.socket(socket.AF_UNIX)),
    "no_new_privs": Path("/proc/self/status").read_text().split("NoNewPrivs:")[1].split()[0],
}
print(json.dumps(result))
"""


def run_probe(tmp_path: Path, mode: str = "normal") -> dict:
    readable = tmp_path / "readable"
    writable = tmp_path / "writable"
    secrets = tmp_path / "secrets"
    for folder in (readable, writable, secrets):
        folder.mkdir()
    (readable / "in.txt").write_text("in")
    (secrets / "key.txt").write_text("secret")
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            PROBE,
            mode,
            str(readable),
            str(writable),
            str(secrets / "key.txt"),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=child_environment(writable),
    )
    return json.loads(result.stdout)


def test_child_environment_is_an_allow_list(tmp_path: Path) -> None:
    assert child_environment(tmp_path) == {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "PYTHONHASHSEED": "0",
    }


def test_this_kernel_has_landlock() -> None:
    # The project's machines run kernels with Landlock; the isolation tests rely on it.
    abi = landlock_abi_version()
    assert abi is not None and abi >= 1


def test_policy_covers_the_python_runtime(tmp_path: Path) -> None:
    policy = SandboxPolicy.for_python(read=[tmp_path], write=[tmp_path / "w"])
    assert Path(sys.prefix).resolve() in policy.read_paths
    assert Path(sys.base_prefix).resolve() in policy.read_paths
    assert tmp_path in policy.read_paths
    assert policy.write_paths == (tmp_path / "w",)
    assert Path("/etc") not in policy.read_paths


def test_confinement(tmp_path: Path) -> None:
    result = run_probe(tmp_path)
    assert result["status"]["landlock_abi"] >= 1
    assert result["status"]["seccomp"] is True
    assert result["status"]["capabilities_dropped"] is True
    assert result["status"]["warnings"] == []
    assert result["no_new_privs"] == "1"
    assert result["read_allowed"] == "ok"
    assert result["read_secret"] == "PermissionError"
    assert result["write_allowed"] == "ok"
    assert result["write_readable"] == "PermissionError"
    assert result["unix_socket"] == "PermissionError"


def test_without_landlock_it_still_runs_and_warns(tmp_path: Path) -> None:
    result = run_probe(tmp_path, "no-landlock")
    warnings = result["status"]["warnings"]
    assert len(warnings) == 1
    assert "file isolation is unavailable on this kernel" in warnings[0]
    assert result["read_secret"] == "ok"  # what the warning is about
    assert result["unix_socket"] == "PermissionError"  # the other layers still hold
