"""The action graph: which actions a request runs, and in which order.

``project.yaml`` is already known to have no cycles and no unknown needs when it gets here
(:mod:`fedsafe.pipeline.model` refused those), so the order is always defined.
"""

from __future__ import annotations

from fedsafe.pipeline.model import Project

__all__ = ["dependants", "execution_order"]


def execution_order(project: Project, targets: list[str]) -> list[str]:
    """Every action the targets need (transitively) and the targets, dependencies first.

    ``["all"]`` means every action. Ties keep the order actions are written in project.yaml,
    so runs are repeatable.
    """
    wanted = list(project.actions) if targets == ["all"] else targets
    for name in wanted:
        project.action(name)  # an unknown name is refused with a suggestion
    order: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        done.add(name)
        for need in project.actions[name].needs:
            visit(need)
        order.append(name)

    for name in wanted:
        visit(name)
    return order


def dependants(project: Project, name: str) -> set[str]:
    """Every action that needs ``name``, directly or through others."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for action in project.actions.values():
            if action.name not in found and (
                name in action.needs or found.intersection(action.needs)
            ):
                found.add(action.name)
                changed = True
    return found
