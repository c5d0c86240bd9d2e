"""``python -I -m fedsafe.executors.confine POLICY_JSON -- COMMAND...``: confine, then exec.

An analysis script runs as ``Rscript`` or the runtime's own Python, not as a fedsafe process,
so it cannot confine itself. This small trusted program applies the sandbox (Landlock,
network namespace, no capabilities, seccomp; see :mod:`fedsafe.loader.sandbox`) to itself and
then replaces itself with the command: the confinement survives ``exec`` and binds the command
and everything it starts.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from fedsafe.loader.sandbox import SandboxPolicy, apply_sandbox


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(
            "usage: python -m fedsafe.executors.confine POLICY_JSON -- COMMAND...", file=sys.stderr
        )
        return 2
    policy_data = json.loads(argv[0])
    command = argv[2:]
    policy = SandboxPolicy.for_python(read=policy_data["read"], write=policy_data["write"])
    status = apply_sandbox(policy)
    for warning in status.warnings:
        print(f"fedsafe: {warning}", file=sys.stderr)
    sys.stderr.flush()
    try:
        os.execv(command[0], command)
    except OSError as exc:
        print(f"fedsafe: could not start {Path(command[0]).name}: {exc.strerror}", file=sys.stderr)
        return 127
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
