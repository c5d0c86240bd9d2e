"""What running an action through the executor costs, against running its command bare.

Usage::

    python benchmarks/bench_executor_limits.py            # 10 pairs
    python benchmarks/bench_executor_limits.py --repeat 3

Both contenders run the same python:v1 script (one that writes a small CSV) in a fresh folder:
the baseline as a plain subprocess of the runtime's interpreter, the executor through
``run_action`` (scratch copy, the confine wrapper with limits, sandbox and PID namespace, the
watch for output limits, the copy back). They alternate, and the ratio reported is the median
over back-to-back pairs, so load from other work on the machine affects both sides alike.

Nothing here is a pass or fail: it prints the two medians and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from fedsafe.executors.local import ActionJob, run_action
from fedsafe.executors.runtimes.resolve import prepare

SCRIPT = """\
import pathlib
pathlib.Path("output").mkdir(exist_ok=True)
pathlib.Path("output/n.csv").write_text("n\\n1\\n")
"""


def bare(workspace: Path) -> float:
    command = prepare("python:v1", ("analysis/script.py",), None).command
    started = time.perf_counter()
    subprocess.run(command, cwd=workspace, check=True)
    return time.perf_counter() - started


def executor(workspace: Path) -> float:
    job = ActionJob(
        name="bench",
        runtime="python:v1",
        args=("analysis/script.py",),
        config=None,
        patterns=(("output/n.csv", "moderately_sensitive"),),
        code_files=("analysis/script.py",),
        inputs=(),
        previous_outputs=("output/n.csv",),
        workspace=workspace,
        log_path=workspace / "metadata" / "bench.log",
    )
    started = time.perf_counter()
    result = run_action(job)
    elapsed = time.perf_counter() - started
    if not result.succeeded:
        raise SystemExit(f"the executor failed: {result.error}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder)
        (workspace / "analysis").mkdir()
        (workspace / "analysis" / "script.py").write_text(SCRIPT)
        bare(workspace)  # warm the runtime and the page cache
        executor(workspace)
        pairs = [(bare(workspace), executor(workspace)) for _ in range(args.repeat)]
    base = statistics.median(b for b, _ in pairs)
    ours = statistics.median(e for _, e in pairs)
    ratio = statistics.median(e / b for b, e in pairs)
    print(f"bare command     median {base * 1000:7.1f} ms")
    print(f"through executor median {ours * 1000:7.1f} ms")
    print(f"ratio (median of pairs) {ratio:.2f}x over {args.repeat} pairs")


if __name__ == "__main__":
    main()
