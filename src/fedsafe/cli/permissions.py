"""The command line's word on permissions when it runs a definition on dummy data."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from fedsafe.loader.load import LoadedDefinition
from fedsafe.permissions import missing_permissions


def warn_unclaimed(loaded: LoadedDefinition, console: Console) -> int:
    """Print a warning for each restricted table read without a claim; return how many.

    Dummy data is not real, so an unclaimed table does not stop it; the warning says what a
    backend will do instead.
    """
    missing = missing_permissions(loaded.dataset, loaded.claimed_permissions)
    for problem in missing:
        console.print(
            Text(f"warning: {problem.dummy_data_warning()}", style="yellow"), soft_wrap=True
        )
    return len(missing)
