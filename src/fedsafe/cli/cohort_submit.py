"""``fedsafe cohort submit QUERY.json --coordinator URL``: one query to every backend that can
answer it, through the coordinator; prints each backend's safe answer as it arrives, then the
combined total.

The user API token comes from ``FEDSAFE_USER_TOKEN`` (``fedsafe coordinator issue-user-token``),
never from the command line, where other users of the machine could read it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from fedsafe.cli.cohort import cohort_app

__all__ = ["submit"]

TOKEN_ENV = "FEDSAFE_USER_TOKEN"


def _line(answer: dict[str, Any]) -> str:
    if answer["status"] == "answered":
        return f"{answer['backend']}: {answer['safe_count']} ({answer['rule']})"
    return f"{answer['backend']}: refused ({answer['refused']})"


@cohort_app.command("submit")
def submit(
    ctx: typer.Context,
    query: Annotated[Path, typer.Argument(help="The availability query (JSON, either form).")],
    coordinator: Annotated[str, typer.Option("--coordinator", help="The coordinator's URL.")],
    backend: Annotated[
        list[str] | None,
        typer.Option("--backend", help="Ask only this backend (repeatable; default: all)."),
    ] = None,
    wait: Annotated[
        float, typer.Option("--wait", help="Seconds to wait for every answer (0: do not wait).")
    ] = 300.0,
    poll: Annotated[float, typer.Option("--poll-seconds", help="How often to ask.")] = 1.0,
) -> None:
    """Submit a cohort query through the coordinator and print the answers as they arrive."""
    from fedsafe.cli.main import UsageError, _reporting_errors
    from fedsafe.errors import FedsafeError

    with _reporting_errors(ctx):
        import httpx

        token = os.environ.get(TOKEN_ENV, "")
        if not token:
            raise UsageError(f"set {TOKEN_ENV} to your coordinator API token")
        if not query.is_file():
            raise UsageError(f"query file {query} does not exist")
        try:
            document = json.loads(query.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise UsageError(f"{query}: not valid JSON ({exc})") from None
        headers = {"Authorization": f"Bearer {token}"}
        base = coordinator.rstrip("/")
        body = {"query": document, "backends": backend or "all"}
        with httpx.Client(headers=headers, timeout=60) as http:
            response = http.post(f"{base}/api/cohort/v1/queries", json=body)
            if response.status_code != 201:
                raise FedsafeError(
                    f"the coordinator refused the query ({response.status_code}): "
                    + str(response.json().get("detail", ""))[:500]
                )
            state = response.json()
            typer.echo(f"cohort query {state['id']}: asked {len(state['answers'])} backend(s)")
            shown: set[str] = set()
            deadline = time.monotonic() + wait
            while True:
                for answer in state["answers"]:
                    if answer["status"] != "pending" and answer["backend"] not in shown:
                        shown.add(answer["backend"])
                        typer.echo(_line(answer))
                if state["complete"] or time.monotonic() >= deadline:
                    break
                time.sleep(poll)
                reply = http.get(f"{base}/api/cohort/v1/queries/{state['id']}")
                reply.raise_for_status()
                state = reply.json()
        waiting = [a["backend"] for a in state["answers"] if a["status"] == "pending"]
        if waiting:
            typer.echo(f"still waiting for: {', '.join(waiting)}")
        total = "none yet" if state["total"] is None else state["total"]
        typer.echo(f"total: {total} ({state['total_rule']})")
