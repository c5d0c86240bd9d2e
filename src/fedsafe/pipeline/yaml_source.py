"""Reading ``project.yaml`` while remembering the line every key and item was written on.

``yaml.safe_load`` gives plain data but forgets where each value came from, and an error that
says "actions.model.needs.0" instead of "line 14" sends the researcher hunting. So the text is
parsed twice from the same string: once by ``yaml.safe_load`` for the data the models are
built from, and once by ``yaml.compose`` (the same safe loader, stopping before constructing
objects) for a map from each path in the data to its line. Composing also lets us refuse
repeated keys, which YAML loaders silently resolve by keeping the last one: a repeated action
name would otherwise quietly drop an action.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from fedsafe.pipeline.errors import ProjectError

__all__ = ["Located", "Path", "read_yaml"]

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Located:
    """Parsed YAML data and, for each path into it, the 1-based line where it was written."""

    data: Any
    lines: Mapping[Path, int]
    file: str

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest enclosing value that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


def read_yaml(text: str, file: str = "project.yaml") -> Located:
    """Parse ``text`` as YAML, refusing syntax errors and repeated keys with their line."""
    root = None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(filter(None, [exc.context, exc.problem]))
        raise ProjectError(f"this is not valid YAML: {problem}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise ProjectError(f"this is not valid YAML: {exc}", file=file) from None
    except ValueError as exc:
        # A value YAML reads as a date but that is no date (2020-13-01) fails while building
        # objects, after the text parsed; name its line rather than crash.
        bad = _bad_timestamp(root)
        line = bad.start_mark.line + 1 if bad is not None else None
        what = f"{bad.value!r} is not a valid date" if bad is not None else str(exc)
        raise ProjectError(f"this is not valid YAML: {what}", file=file, line=line) from None
    lines: dict[Path, int] = {}
    if root is not None:
        _walk(root, (), lines, file)
    return Located(data=data, lines=lines, file=file)


def _bad_timestamp(node: yaml.Node | None) -> yaml.ScalarNode | None:
    """The first scalar YAML reads as a timestamp that does not make a valid date."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:timestamp":
            try:
                yaml.SafeLoader("").construct_yaml_timestamp(node)
            except ValueError:
                return node
        return None
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    for child in children:
        found = _bad_timestamp(child)
        if found is not None:
            return found
    return None


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int], file: str) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            line = key_node.start_mark.line + 1
            if key is not None and key in seen:
                raise ProjectError(
                    f"{key!r} appears twice in the same mapping (first on line {seen[key]}); "
                    "YAML would silently keep only the last one, so give each a distinct name",
                    file=file,
                    line=line,
                )
            if key is None:
                continue
            seen[key] = line
            lines[(*path, key)] = line  # the key's line: where the researcher wrote the field
            _walk(value_node, (*path, key), lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines, file)
