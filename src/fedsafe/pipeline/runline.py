"""An action's ``run:`` line: which runtime, which command, which arguments.

``run: python:v1 analysis/model.py --years 5`` names a runtime and its version before the
colon, as OpenSAFELY's project files do, so that an action keeps running on the environment
it was written for after newer versions appear. The runtimes are a closed list: an unknown
name is refused when ``project.yaml`` is read, not when the action is finally reached.
"""

from __future__ import annotations

import difflib
import shlex
from dataclasses import dataclass

__all__ = ["FEDSAFE_COMMANDS", "RUNTIMES", "RunLine", "RunLineError", "parse_run_line"]

RUNTIMES: dict[str, str] = {
    "fedsafe:v1": (
        "fedsafe's own generate-dataset, generate-measures, report-dataset and combine, run by "
        "trusted code"
    ),
    "python:v1": "Python 3.11 with pandas, numpy, scipy, statsmodels, matplotlib and pyarrow",
    "r:v1": "R, from the machine's R installation (Debian's r-base-core)",
}

# fedsafe:v1 commands an action may run, and what is missing for those not yet available.
FEDSAFE_COMMANDS: dict[str, str | None] = {
    "generate-dataset": None,
    "generate-measures": None,
    "report-dataset": None,
    "combine": None,
}

# Names researchers bring from OpenSAFELY, and what to write instead.
_RENAMED = {
    "ehrql": "fedsafe:v1",
    "cohortextractor": "fedsafe:v1",
    "python": "python:v1",
    "r": "r:v1",
}


class RunLineError(ValueError):
    """A ``run:`` line that cannot be understood; the model turns it into a ProjectError."""


@dataclass(frozen=True)
class RunLine:
    """A parsed ``run:`` line."""

    runtime: str
    args: tuple[str, ...]

    @property
    def is_dataset(self) -> bool:
        """Whether this action writes patient-level data (a dataset)."""
        return self.runtime == "fedsafe:v1" and self.args[:1] == ("generate-dataset",)

    @property
    def is_measures(self) -> bool:
        """Whether this action writes measures: aggregates, protected as they are written."""
        return self.runtime == "fedsafe:v1" and self.args[:1] == ("generate-measures",)

    @property
    def is_combine(self) -> bool:
        """Whether this action combines outputs released by backends (``fedsafe combine``)."""
        return self.runtime == "fedsafe:v1" and self.args[:1] == ("combine",)

    @property
    def released_dir(self) -> str | None:
        """The folder of released files a combine action reads (its first argument)."""
        if not self.is_combine or len(self.args) < 2 or self.args[1].startswith("-"):
            return None
        return self.args[1].rstrip("/")

    @property
    def reads_patient_data(self) -> bool:
        """Whether this action queries a database (or dummy data) with codelists."""
        return self.is_dataset or self.is_measures

    def option(self, *names: str) -> str | None:
        """The value of the first of ``names`` given as ``--name VALUE`` or ``--name=VALUE``."""
        for index, arg in enumerate(self.args):
            for name in names:
                if arg == name and index + 1 < len(self.args):
                    return self.args[index + 1]
                if arg.startswith(name + "="):
                    return arg[len(name) + 1 :]
        return None


def parse_run_line(text: object) -> RunLine:
    """Split a ``run:`` line, refusing unknown runtimes and missing commands."""
    if not isinstance(text, str) or not text.strip():
        raise RunLineError("expected a command such as 'python:v1 analysis/model.py'")
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise RunLineError(f"cannot split this command into words ({exc})") from None
    runtime, args = words[0], tuple(words[1:])
    if runtime not in RUNTIMES:
        raise RunLineError(_unknown_runtime(runtime))
    if not args:
        what = "a command such as generate-dataset" if runtime == "fedsafe:v1" else "a script"
        raise RunLineError(f"{runtime} needs {what} after it")
    if runtime == "fedsafe:v1":
        command = args[0]
        if command not in FEDSAFE_COMMANDS:
            known = ", ".join(FEDSAFE_COMMANDS)
            raise RunLineError(f"fedsafe:v1 has no command {command!r}; the commands are {known}")
        missing = FEDSAFE_COMMANDS[command]
        if missing:
            raise RunLineError(missing)
        if any(a == "--project-dir" or a.startswith("--project-dir=") for a in args):
            raise RunLineError(
                "--project-dir cannot be given in project.yaml: an action always runs in its "
                "own copy of the project"
            )
    else:
        script = args[0]
        suffix = ".R" if runtime == "r:v1" else ".py"
        if not script.endswith(suffix) and not (runtime == "r:v1" and script.endswith(".r")):
            raise RunLineError(f"{runtime} runs a script ending in {suffix}, not {script!r}")
    return RunLine(runtime, args)


def _unknown_runtime(runtime: str) -> str:
    known = ", ".join(RUNTIMES)
    name = runtime.split(":", 1)[0].lower()
    message = f"unknown runtime {runtime!r}; the runtimes are {known}"
    suggestion = _RENAMED.get(name)
    if suggestion is None:
        close = difflib.get_close_matches(runtime.lower(), RUNTIMES, n=1, cutoff=0.5)
        suggestion = close[0] if close else None
    if suggestion:
        message += f"; did you mean {suggestion!r}?"
    return message
