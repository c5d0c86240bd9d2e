"""``python -m fedsafe.agent.child SPEC.json``: run one action of a working copy, in a process
of its own, and write how it went to a small JSON file.

A separate process lets the agent stop a cancelled action at once (it kills this process's
group and whatever is left in the job's folder) while it keeps heartbeating. The result holds
only safe facts: a status, an exit code, an error class and a fixed sentence, never the
action's output or an exception's message.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from fedsafe.agent.safe import safe_summary

__all__ = ["main"]


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    from fedsafe.backends.config import load_config
    from fedsafe.pipeline.runner import DataSource, run_one_action

    workspace = Path(spec["workspace"])
    source = None
    try:
        if spec.get("backend_config"):
            env = tuple((k, os.environ[k]) for k in spec.get("env_names", []) if k in os.environ)
            config = Path(spec["backend_config"])
            # The backend's [limits] apply to every action it runs.
            source = DataSource(config, env, load_config(config).limits)
        outcome = run_one_action(workspace, spec["action"], source)
    except Exception as exc:
        result = {"status": "failed", "exit_code": None, **safe_summary(exc, workspace)}
    else:
        result = {"status": outcome.status, "exit_code": outcome.exit_code}
        if outcome.status != "succeeded":
            if outcome.exit_code is None:
                result |= {
                    "error_class": "ActionRefused",
                    "message": "the action was refused before it ran; its log stays in the backend",
                }
            elif outcome.exit_code != 0:
                result |= {
                    "error_class": "ActionFailed",
                    "message": f"the action exited with status {outcome.exit_code}; its log "
                    "stays in the backend",
                }
            else:
                result |= {
                    "error_class": "OutputsMissing",
                    "message": "the action did not write every output it declares; its log "
                    "stays in the backend",
                }
    target = Path(spec["result"])
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(result), encoding="utf-8")
    os.replace(temporary, target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
