"""``python -I -m fedsafe.executors.confine SPEC_JSON -- COMMAND...``: limit, confine, then exec.

An analysis script runs as ``Rscript`` or the runtime's own Python, not as a fedsafe process,
so it cannot confine itself. This small trusted program sets the action's resource limits
(see :mod:`fedsafe.executors.limits`), applies the sandbox (Landlock, network namespace, no
capabilities, seccomp; see :mod:`fedsafe.loader.sandbox`) to itself when asked, and then
starts the command as the first process of a new PID namespace: limits and confinement survive
``fork`` and ``exec`` and bind the command and everything it starts, and when the command ends
(or is stopped) the kernel ends everything it left running.

``SPEC_JSON`` is an object with optional keys ``read`` and ``write`` (folders for the sandbox;
without ``read`` no sandbox is applied, for fedsafe's own trusted runtime), ``limits`` (a
:class:`~fedsafe.executors.limits.ResourceLimits` as JSON) and ``parent`` (the process id of
the executor: the action is killed when that process ends, however it ends).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys
from pathlib import Path

from fedsafe.executors.limits import ResourceLimits
from fedsafe.loader.sandbox import SandboxPolicy, apply_sandbox

# Seconds of CPU time between the soft limit (SIGXCPU, which a program may catch) and the hard
# one (SIGKILL, which it may not).
CPU_GRACE_SECONDS = 2


def apply_limits(limits: ResourceLimits) -> None:
    """Set this process's resource limits; its children inherit them and cannot raise them.

    Hard limits are set too, so the confined program cannot lift a soft limit past them; an
    existing hard limit that is already lower is kept. Core dumps are switched off: a dump of a
    process that read patient data would be a copy of that data in a file nobody asked for.
    """
    cpu = limits.cpu_seconds
    _set(resource.RLIMIT_CPU, cpu, cpu + CPU_GRACE_SECONDS)
    _set(resource.RLIMIT_AS, limits.memory_bytes, limits.memory_bytes)
    # One byte more than allowed: a file that reached it is over the limit, which the executor
    # then sees from its size whatever the program did on being refused.
    size = limits.output_file_bytes + 1
    _set(resource.RLIMIT_FSIZE, size, size)
    _set(resource.RLIMIT_CORE, 0, 0)


def _set(which: int, soft: int, hard: int) -> None:
    _, current_hard = resource.getrlimit(which)
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard)
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard))


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m fedsafe.executors.confine SPEC_JSON -- COMMAND...", file=sys.stderr)
        return 2
    spec = json.loads(argv[0])
    command = argv[2:]
    if "parent" in spec and not _die_with_parent(int(spec["parent"])):
        print("fedsafe: the executor that started this action has ended", file=sys.stderr)
        return 125
    if "limits" in spec:
        apply_limits(ResourceLimits.from_json(spec["limits"]))
    own_namespace = _new_process_namespace()
    if "read" in spec:
        policy = SandboxPolicy.for_python(read=spec["read"], write=spec.get("write", ()))
        status = apply_sandbox(policy)
        for warning in status.warnings:
            print(f"fedsafe: {warning}", file=sys.stderr)
    if not own_namespace:
        print(
            "fedsafe: warning: could not create a process namespace; a process the action "
            "starts in a session of its own may outlive it",
            file=sys.stderr,
        )
    sys.stderr.flush()
    if not own_namespace:
        return _exec(command)
    return _run_as_init(command)


def _die_with_parent(parent: int) -> bool:
    """Ask the kernel to kill this process when its parent ends; False if it already has.

    Checked after asking, so a parent that ended just before is not missed.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    return os.getppid() == parent


def _new_process_namespace() -> bool:
    """Put this process's future children in a new PID namespace.

    The first child is its init: when it ends, the kernel kills every process left in the
    namespace, including any that started a session of its own to escape the action's process
    group. Root may do so directly; anyone else needs a new user namespace too.
    """
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if os.geteuid() == 0:
        return libc.unshare(_CLONE_NEWPID) == 0
    uid, gid = os.geteuid(), os.getegid()
    if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWPID) != 0:
        return False
    try:
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    except OSError:
        return False
    return True


def _run_as_init(command: list[str]) -> int:
    """Start the command as the namespace's first process, wait for it, and end as it ended.

    The command dies with this process (``PR_SET_PDEATHSIG``), so stopping this one, as the
    executor does, stops the whole namespace.
    """
    child = os.fork()
    if child == 0:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            os._exit(_exec(command))
        finally:
            os._exit(127)
    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    if code < 0:  # end by the same signal, so the executor sees what stopped the command
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code  # not reached for a signal that terminates
    return code


def _exec(command: list[str]) -> int:
    try:
        os.execv(command[0], command)
    except OSError as exc:
        print(f"fedsafe: could not start {Path(command[0]).name}: {exc.strerror}", file=sys.stderr)
        return 127
    return 0  # not reached


_CLONE_NEWPID = 0x20000000
_CLONE_NEWUSER = 0x10000000
_PR_SET_PDEATHSIG = 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
