"""``project.yaml``: the pydantic models, and every check that needs the whole file.

The shape (which keys, which types) is checked by pydantic models built from
``yaml.safe_load``'s output; the rules that span fields and actions (needs that exist, no
cycles, patterns that do not overlap, dataset outputs that are highly sensitive) are checked
after, in plain code. Every problem found is reported (one ProjectError, or ProjectErrors
listing several), each naming the line, the action and the field, so one ``fedsafe check``
shows them all. The result is a :class:`Project`: frozen values that the runner can trust
without checking again.

The format follows OpenSAFELY's where it can: ``version``, ``actions`` with ``run``,
``needs``, ``outputs`` by privacy level and ``config``; fedsafe adds ``backends`` (which
backends an action may run on), ``linkage`` (what an action needs from another backend's
records: :mod:`fedsafe.linkage.declaration`) and, for ``fedsafe:v1 combine`` actions,
``needs_released``: the actions whose outputs, once released by each backend, the combine step
reads.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from fedsafe.linkage.declaration import LinkageDeclaration, parse_declaration
from fedsafe.linkage.errors import DeclarationError
from fedsafe.pipeline.errors import ProjectError, ProjectErrors
from fedsafe.pipeline.patterns import (
    matches,
    pattern_problem,
    patterns_overlap,
    unreleasable_suffix_problem,
)
from fedsafe.pipeline.runline import RunLine, RunLineError, parse_run_line
from fedsafe.pipeline.yaml_source import Located, read_yaml

__all__ = [
    "PRIVACY_LEVELS",
    "Action",
    "Output",
    "Project",
    "load_project",
    "parse_project",
]

PROJECT_FILE = "project.yaml"
SUPPORTED_VERSIONS = ("1", "1.0")
PRIVACY_LEVELS = ("highly_sensitive", "moderately_sensitive")
Level = Literal["highly_sensitive", "moderately_sensitive"]
_ACTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_BACKEND_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
RESERVED_ACTION_NAMES = ("all",)


# ---------------------------------------------------------------------------------------------
# The shape, as pydantic models


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class OutputsModel(_Strict):
    highly_sensitive: dict[StrictStr, StrictStr] | None = None
    moderately_sensitive: dict[StrictStr, StrictStr] | None = None


class ActionModel(_Strict):
    run: StrictStr
    needs: list[StrictStr] = []
    needs_released: list[StrictStr] = []
    outputs: OutputsModel
    config: dict[StrictStr, Any] | None = None
    backends: list[StrictStr] | None = None
    linkage: Any = None  # checked by fedsafe.linkage.declaration, which names each field


class ProjectModel(_Strict):
    version: StrictStr | int | float
    actions: dict[StrictStr, ActionModel]


# ---------------------------------------------------------------------------------------------
# The checked result


@dataclass(frozen=True)
class Output:
    """One declared output pattern: its name in project.yaml, its privacy level, its glob."""

    name: str
    level: Level
    pattern: str


@dataclass(frozen=True)
class Action:
    """One checked action."""

    name: str
    run: RunLine
    run_text: str
    needs: tuple[str, ...]
    outputs: tuple[Output, ...]
    config: Mapping[str, Any] | None
    backends: tuple[str, ...] | None  # None: every backend
    needs_released: tuple[str, ...] = ()  # combine actions: actions whose released outputs
    linkage: LinkageDeclaration | None = None  # another backend's records this action needs

    def level_of(self, path: str) -> Level | None:
        """The privacy level of a workspace-relative path if one of our patterns matches it."""
        for output in self.outputs:
            if matches(output.pattern, path):
                return output.level
        return None


@dataclass(frozen=True)
class Project:
    """A checked ``project.yaml``: actions by name, in the order they were written."""

    actions: Mapping[str, Action]
    version: str
    file: str = PROJECT_FILE

    def action(self, name: str) -> Action:
        try:
            return self.actions[name]
        except KeyError:
            raise ProjectError(
                _unknown_action_message(name, self.actions), file=self.file
            ) from None


def _unknown_action_message(name: str, actions: Mapping[str, Any]) -> str:
    message = f"there is no action {name!r}; the actions are {', '.join(actions) or '(none)'}"
    close = difflib.get_close_matches(name, list(actions), n=1, cutoff=0.6)
    if close:
        message += f"; did you mean {close[0]!r}?"
    return message


# ---------------------------------------------------------------------------------------------
# Loading


def load_project(directory: Path) -> Project:
    """Read and check ``project.yaml`` in ``directory``, including that its scripts exist."""
    path = Path(directory) / PROJECT_FILE
    if not path.is_file():
        raise ProjectError(
            f"there is no {PROJECT_FILE} in {directory}; run 'fedsafe init' to start a project",
            file=str(path),
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ProjectError("the file is not UTF-8 text", file=PROJECT_FILE) from None
    return parse_project(text, project_dir=Path(directory))


def parse_project(
    text: str, *, project_dir: Path | None = None, file: str = PROJECT_FILE
) -> Project:
    """Check the text of a ``project.yaml``; with ``project_dir``, also that scripts exist."""
    located = read_yaml(text, file)
    if not isinstance(located.data, dict):
        raise ProjectError(
            "expected a mapping with 'version' and 'actions' at the top level",
            file=file,
            line=located.line_of(()),
        )
    try:
        model = ProjectModel.model_validate(located.data)
    except ValidationError as exc:
        raise combined([_from_validation_error(e, located) for e in exc.errors()]) from None
    version = str(model.version)
    if version not in SUPPORTED_VERSIONS:
        raise ProjectError(
            f"version {version!r} is not supported; this fedsafe reads version '1'",
            file=file,
            line=located.line_of(("version",)),
            field="version",
        )
    checker = _Checker(located, project_dir)
    actions: dict[str, Action] = {}
    for name, spec in model.actions.items():
        with checker.collecting():
            actions[name] = checker.action(name, spec)
    with checker.collecting():
        checker.needs(actions, list(model.actions))
    checker.outputs(actions)
    if checker.problems:
        raise combined(checker.problems)
    return Project(actions=actions, version=version, file=file)


def combined(problems: list[ProjectError]) -> ProjectError:
    """One problem as itself; several as one error listing each on its own line."""
    return problems[0] if len(problems) == 1 else ProjectErrors(problems)


def _from_validation_error(error: Any, located: Located) -> ProjectError:
    loc = tuple(error["loc"])
    action = str(loc[1]) if len(loc) >= 2 and loc[0] == "actions" else None
    field_path = loc[2:] if action is not None else loc
    field = ".".join(str(p) for p in field_path) or None
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _known_fields(loc[:-1])
        message = f"{loc[-1]!r} is not a field fedsafe knows here; expected one of {known}"
        field = ".".join(str(p) for p in field_path[:-1]) or None
        close = difflib.get_close_matches(str(loc[-1]), known.split(", "), n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
    elif kind == "missing":
        message = f"{loc[-1]!r} is required"
        field = ".".join(str(p) for p in field_path) or None
    else:
        given = error.get("input")
        message = f"{error['msg'].lower()}, not {_describe(given)}"
    return ProjectError(
        message, file=located.file, line=located.line_of(loc), action=action, field=field
    )


def _known_fields(loc: tuple[Any, ...]) -> str:
    if not loc:
        return ", ".join(ProjectModel.model_fields)
    if loc[-1] == "outputs":
        return ", ".join(OutputsModel.model_fields)
    return ", ".join(ActionModel.model_fields)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


class _Checker:
    """The rules that need more than one field, each raising with the place it is about."""

    def __init__(self, located: Located, project_dir: Path | None) -> None:
        self.located = located
        self.project_dir = project_dir
        self.problems: list[ProjectError] = []
        self.actions: Mapping[str, Action] | None = None

    def error(self, message: str, action: str | None, *field: str | int) -> ProjectError:
        path: tuple[str | int, ...] = ("actions", action, *field) if action else tuple(field)
        return ProjectError(
            message,
            file=self.located.file,
            line=self.located.line_of(path),
            action=action,
            field=".".join(str(f) for f in field) or None,
        )

    def action(self, name: str, spec: ActionModel) -> Action:
        if not _ACTION_NAME.fullmatch(name):
            raise self.error(
                "action names are letters, digits, '_' and '-', starting with a letter or digit",
                name,
            )
        if name in RESERVED_ACTION_NAMES:
            raise self.error(f"{name!r} is reserved ('fedsafe run all' runs every action)", name)
        try:
            run = parse_run_line(spec.run)
        except RunLineError as exc:
            raise self.error(str(exc), name, "run") from None
        self._check_script(name, run)
        outputs = self._outputs(name, spec)
        backends = self._backends(name, spec.backends)
        linkage = self._linkage(name, spec, backends)
        return Action(
            name=name,
            run=run,
            run_text=spec.run,
            needs=tuple(spec.needs),
            outputs=outputs,
            config=spec.config,
            backends=backends,
            needs_released=tuple(spec.needs_released),
            linkage=linkage,
        )

    def _linkage(
        self, name: str, spec: ActionModel, backends: tuple[str, ...] | None
    ) -> LinkageDeclaration | None:
        if "linkage" not in spec.model_fields_set:
            return None
        try:
            declaration = parse_declaration(spec.linkage)
        except DeclarationError as exc:
            problems = [
                self.error(message, name, "linkage", *path) for path, message in exc.problems
            ]
            raise combined(problems) from None
        if backends is None or len(backends) != 1:
            raise self.error(
                "an action with linkage runs on one backend, which receives the linked records: "
                "name it under backends",
                name,
                "backends",
            )
        if declaration.backend == backends[0]:
            raise self.error(
                f"the action runs on {backends[0]!r}; linkage.backend must name another backend",
                name,
                "linkage",
                "backend",
            )
        return declaration

    def _check_script(self, name: str, run: RunLine) -> None:
        if run.runtime == "fedsafe:v1":
            definition = run.args[1] if len(run.args) > 1 else None
            if definition is None or definition.startswith("-"):
                what = {"report-dataset": "dataset's", "combine": "released files folder's"}.get(
                    run.args[0], "definition's"
                )
                raise self.error(
                    f"{run.args[0]} needs the {what} path right after it",
                    name,
                    "run",
                )
            script = definition
        else:
            script = run.args[0]
        parts = PurePosixPath(script).parts
        if run.is_combine and (not parts or parts[0] in ("metadata", "codelists", PROJECT_FILE)):
            raise self.error(
                f"{script!r} cannot hold released files: name a folder of its own, such as "
                "'released'",
                name,
                "run",
            )
        if script.startswith("/") or ".." in parts:
            raise self.error(
                f"{script!r} must be a path inside the project, relative to project.yaml",
                name,
                "run",
            )
        # report-dataset reads a needed action's output, which exists only once that has run.
        # A combine action's released files arrive from the backends (or, locally, from the
        # user), so they need not exist when project.yaml is checked.
        reads_output = run.runtime == "fedsafe:v1" and run.args[0] in ("report-dataset", "combine")
        if (
            self.project_dir is not None
            and not reads_output
            and not (self.project_dir / script).is_file()
        ):
            raise self.error(f"{script} does not exist in the project", name, "run")

    def _outputs(self, name: str, spec: ActionModel) -> tuple[Output, ...]:
        declared: list[Output] = []
        for level in PRIVACY_LEVELS:
            for key, pattern in (getattr(spec.outputs, level) or {}).items():
                problem = pattern_problem(pattern)
                if problem is None and level == "moderately_sensitive":
                    problem = unreleasable_suffix_problem(pattern)
                if problem:
                    raise self.error(problem, name, "outputs", level, key)
                declared.append(Output(key, level, pattern))  # type: ignore[arg-type]
        if not declared:
            raise self.error(
                "an action must declare at least one output, under highly_sensitive or "
                "moderately_sensitive",
                name,
                "outputs",
            )
        run = parse_run_line(spec.run)
        if run.is_dataset:
            self._check_dataset_outputs(name, run, declared)
        if run.is_measures:
            self._check_measures_outputs(name, run, declared)
        if run.is_combine:
            self._check_combine_outputs(name, run, declared)
        return tuple(declared)

    def _check_combine_outputs(self, name: str, run: RunLine, declared: list[Output]) -> None:
        target = run.option("--output", "-o")
        if target is None:
            raise self.error("combine needs --output FOLDER", name, "run")
        for output in declared:
            if output.level != "moderately_sensitive":
                raise self.error(
                    "a combine action reads only released files and writes combined results "
                    "to be published, so its outputs must all be moderately_sensitive",
                    name,
                    "outputs",
                    output.level,
                    output.name,
                )
        manifest = f"{target.rstrip('/')}/manifest.json"
        if not any(matches(o.pattern, manifest) for o in declared):
            raise self.error(
                f"the combined results are written to {target}, but no output matches its "
                f"{manifest}; declare the folder's files under outputs: moderately_sensitive:",
                name,
                "outputs",
            )

    def _check_measures_outputs(self, name: str, run: RunLine, declared: list[Output]) -> None:
        target = run.option("--output", "-o")
        if target is None:
            raise self.error("generate-measures needs --output PATH", name, "run")
        folder, _, form = target.rpartition("/:")
        # DIR/:csv writes one file per measure into DIR; otherwise one file at the path.
        probe = f"{folder}/*.{form}" if folder and form else target
        if not any(patterns_overlap(o.pattern, probe) for o in declared):
            raise self.error(
                f"the measures are written to {target}, which none of the action's outputs "
                "matches; declare it (and its .disclosure.json sidecar) under outputs:",
                name,
                "outputs",
            )

    def _check_dataset_outputs(self, name: str, run: RunLine, declared: list[Output]) -> None:
        for output in declared:
            if output.level != "highly_sensitive":
                raise self.error(
                    "a dataset holds patient-level data, so a dataset action's outputs must all "
                    "be highly_sensitive",
                    name,
                    "outputs",
                    output.level,
                    output.name,
                )
        target = run.option("--output", "-o")
        if target is None:
            raise self.error("generate-dataset needs --output PATH", name, "run")
        if not any(matches(o.pattern, target) for o in declared):
            raise self.error(
                f"the dataset is written to {target}, which none of the action's "
                "highly_sensitive outputs matches; declare it under outputs: highly_sensitive:",
                name,
                "outputs",
            )

    def _backends(self, name: str, backends: list[str] | None) -> tuple[str, ...] | None:
        if backends is None:
            return None
        if not backends:
            raise self.error(
                "list at least one backend, or leave 'backends' out to allow every backend",
                name,
                "backends",
            )
        for index, backend in enumerate(backends):
            if not _BACKEND_NAME.fullmatch(backend):
                raise self.error(
                    f"{backend!r} is not a backend name (lower-case letters, digits, '_', '-')",
                    name,
                    "backends",
                    index,
                )
            if backend in backends[:index]:
                raise self.error(f"{backend!r} is listed twice", name, "backends", index)
        return tuple(backends)

    def needs(self, actions: Mapping[str, Action], names: Collection[str]) -> None:
        """Check every action's needs against ``names`` (every action written, including any
        that had problems of their own), then look for cycles if the needs are sound."""
        before = len(self.problems)
        self.actions = actions
        for action in actions.values():
            with self.collecting():
                self._needs_of(action, names)
        if len(self.problems) > before:
            return
        cycle = find_cycle({name: a.needs for name, a in actions.items()})
        if cycle:
            raise self.error(
                "these actions need each other in a cycle, so none of them could ever run: "
                + " -> ".join(cycle),
                cycle[0],
                "needs",
            )

    def _needs_of(self, action: Action, names: Collection[str]) -> None:
        self._needs_released_of(action, names)
        for index, need in enumerate(action.needs):
            if need == action.name:
                raise self.error("an action cannot need itself", action.name, "needs", index)
            if need not in names:
                raise self.error(
                    _unknown_action_message(need, list(names)), action.name, "needs", index
                )
            if need in action.needs[:index]:
                raise self.error(f"{need!r} is listed twice", action.name, "needs", index)
            needed = self.actions.get(need) if self.actions is not None else None
            if needed is not None and needed.run.is_combine:
                raise self.error(
                    f"{need!r} is a combine action, whose results exist only once every "
                    "backend has released its outputs; no action can need them",
                    action.name,
                    "needs",
                    index,
                )

    def _needs_released_of(self, action: Action, names: Collection[str]) -> None:
        """A combine action reads released files only: it lists the actions whose released
        outputs it combines under needs_released, and needs nothing else."""
        if not action.run.is_combine:
            if action.needs_released:
                raise self.error(
                    "only a 'fedsafe:v1 combine' action can have needs_released; other actions "
                    "run inside a backend and list what they need under needs",
                    action.name,
                    "needs_released",
                )
            return
        if action.needs:
            raise self.error(
                "a combine action reads only files released by backends: list the actions "
                "whose released outputs it combines under needs_released, not needs",
                action.name,
                "needs",
            )
        if not action.needs_released:
            raise self.error(
                "a combine action must list under needs_released the actions whose released "
                "outputs it combines",
                action.name,
                "needs_released",
            )
        for index, need in enumerate(action.needs_released):
            where = ("needs_released", index)
            if need == action.name:
                raise self.error("an action cannot need itself", action.name, *where)
            if need not in names:
                raise self.error(_unknown_action_message(need, list(names)), action.name, *where)
            if need in action.needs_released[:index]:
                raise self.error(f"{need!r} is listed twice", action.name, *where)
            other = self.actions.get(need) if self.actions is not None else None
            if other is None:
                continue
            if other.run.is_combine:
                raise self.error(
                    f"{need!r} is a combine action: backends never release combined results",
                    action.name,
                    *where,
                )
            if not any(o.level == "moderately_sensitive" for o in other.outputs):
                raise self.error(
                    f"{need!r} has no moderately_sensitive outputs, so a backend can never "
                    "release anything of it to combine",
                    action.name,
                    *where,
                )

    @contextlib.contextmanager
    def collecting(self) -> Iterator[None]:
        """Record a problem and carry on, so one run of fedsafe check shows them all."""
        try:
            yield
        except ProjectErrors as exc:
            self.problems.extend(exc.problems)
        except ProjectError as exc:
            self.problems.append(exc)

    def outputs(self, actions: Mapping[str, Action]) -> None:
        seen: list[tuple[Action, Output]] = []
        for action in actions.values():
            for output in action.outputs:
                with self.collecting():
                    self._unique_output(seen, action, output)
                seen.append((action, output))

    def _unique_output(
        self, seen: list[tuple[Action, Output]], action: Action, output: Output
    ) -> None:
        for other_action, other in seen:
            if other.pattern == output.pattern:
                what = "is declared twice"
            elif patterns_overlap(other.pattern, output.pattern):
                what = f"could match the same files as {other.pattern!r}"
            else:
                continue
            owner = (
                "in this action" if other_action is action else f"in action {other_action.name!r}"
            )
            raise self.error(
                f"output pattern {output.pattern!r} {what} ({other.level}.{other.name} "
                f"{owner}); every file must belong to exactly one output",
                action.name,
                "outputs",
                output.level,
                output.name,
            )


def find_cycle(needs: Mapping[str, tuple[str, ...]]) -> list[str] | None:
    """A cycle among ``needs`` as a list of names whose first and last are the same, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    stack: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        stack.append(name)
        for need in needs.get(name, ()):
            if state.get(need) == 1:
                return [*stack[stack.index(need) :], need]
            if need in needs and need not in state:
                found = visit(need)
                if found:
                    return found
        stack.pop()
        state[name] = 2
        return None

    for name in needs:
        if name not in state:
            found = visit(name)
            if found:
                return found
    return None
