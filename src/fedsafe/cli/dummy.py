"""The command line's dummy data paths: generated, from dummy tables' folder, or from a file.

``generate-dataset`` with no data source writes dummy data; ``create-dummy-tables`` writes the
tables behind it as CSV for a researcher to edit and feed back with ``--dummy-tables``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from fedsafe.loader.load import LoadedDefinition


@contextmanager
def _search_progress(console: Console, wanted: int) -> Iterator:
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} patients"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("finding dummy patients", total=wanted)

        def update(state) -> None:  # a SearchProgress
            progress.update(task, completed=state.found)

        yield update


def generated_dummy_dataset(
    loaded: LoadedDefinition,
    console: Console,
    *,
    seed: int,
    profile: Path | None,
) -> pa.Table:
    """The dummy dataset for a loaded definition, with progress and a one-line account."""
    from fedsafe.dummy_data import generate_dummy_dataset
    from fedsafe.dummy_data.settings import DummyDataSettings

    settings = DummyDataSettings.from_config(loaded.dummy_data_config)
    priors = _priors(profile)
    started = time.monotonic()
    with _search_progress(console, settings.population_size) as update:
        result, tables = generate_dummy_dataset(
            loaded.dataset,
            population_size=settings.population_size,
            seed=seed,
            timeout=settings.timeout,
            additional_population_constraint=settings.additional_population_constraint,
            priors=priors,
            on_progress=update,
        )
    console.print(
        Text(
            f"no data source given: generated dummy data for {tables.population_size:,} "
            f"patients ({tables.generated:,} tried, seed {seed}"
            + (f", following {profile}" if profile else "")
            + f") in {time.monotonic() - started:.1f} s"
        ),
        soft_wrap=True,
    )
    return result


def _priors(profile: Path | None):
    if profile is None:
        return None
    from fedsafe.dummy_data.profile import read_profile

    return read_profile(profile).priors()


def dataset_from_file(loaded: LoadedDefinition, path: Path) -> pa.Table:
    """A researcher's own dummy dataset, checked against the definition's columns and types."""
    from fedsafe.dummy_data.dataset_file import read_dummy_dataset_file

    return read_dummy_dataset_file(path, loaded.dataset)


def write_dummy_tables(tables: dict[str, pa.Table], directory: Path) -> list[Path]:
    """Each table as ``DIR/<table>.csv``, in the form ``--dummy-tables`` reads back."""
    from fedsafe.io.writers import write_dataset

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in sorted(tables.items()):
        path = directory / f"{name}.csv"
        write_dataset(pa.RecordBatchReader.from_batches(table.schema, table.to_batches()), path)
        written.append(path)
    return written
