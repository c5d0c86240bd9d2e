"""How much of the machine one action may use: CPU, memory, time, and what it writes.

A backend runs code written by someone else next to its data. Confinement (see
:mod:`fedsafe.executors.confine`) stops that code from reaching what it should not; these
limits stop it from taking more than its share of what it may reach, so a runaway loop or a
script that fills the disk fails alone instead of taking the backend down with it.

This module holds only the values and their wording, with no dependency on the rest of the
executor, so a backend's configuration file can carry them (``[limits]``) without importing
anything that runs processes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["LIMIT_FIELDS", "ResourceLimits", "describe_breach", "format_bytes", "format_seconds"]

_KiB = 1024
_MiB = 1024 * _KiB
_GiB = 1024 * _MiB


@dataclass(frozen=True)
class ResourceLimits:
    """The most one action may use. Every field is a positive whole number.

    * ``cpu_seconds``: CPU time of each process the action runs (``RLIMIT_CPU``; the process
      is stopped when it passes it).
    * ``memory_bytes``: address space of each process (``RLIMIT_AS``): allocations past it
      fail, so the program stops with its own out-of-memory error. It counts reserved address
      space, not only memory in use, so leave room: a Java virtual machine (Spark) reserves its
      whole heap at start.
    * ``output_file_bytes``: the largest file it may write (``RLIMIT_FSIZE``, so a runaway
      writer is stopped at the limit, not when the disk is full), its log included.
    * ``output_total_bytes``: everything it writes, all files together.
    * ``output_files``: how many files and folders it may create.
    * ``wall_seconds``: how long it may run, waiting included.

    The defaults suit a large study on a backend's own server; a backend can set its own in the
    ``[limits]`` table of its configuration file.
    """

    cpu_seconds: int = 12 * 3600
    memory_bytes: int = 16 * _GiB
    output_file_bytes: int = 4 * _GiB
    output_total_bytes: int = 16 * _GiB
    output_files: int = 10_000
    wall_seconds: int = 24 * 3600

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"resource limit {name} must be a positive whole number")
        if self.output_file_bytes > self.output_total_bytes:
            raise ValueError(
                "resource limit output_file_bytes must not exceed output_total_bytes "
                f"({self.output_file_bytes} > {self.output_total_bytes})"
            )

    def as_json(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, int]) -> ResourceLimits:
        return cls(**{name: int(data[name]) for name in LIMIT_FIELDS})


LIMIT_FIELDS: tuple[str, ...] = tuple(ResourceLimits.__dataclass_fields__)


def describe_breach(limit: str, limits: ResourceLimits) -> str:
    """A message for the person who reads the action's failure, naming the limit it passed.

    It says nothing about what the action did or wrote beyond that, so it is safe to report
    outside the backend.
    """
    if limit == "cpu_seconds":
        what = f"used more than {format_seconds(limits.cpu_seconds)} of CPU time"
    elif limit == "memory_bytes":
        what = (
            "ran out of memory: it may use at most "
            f"{format_bytes(limits.memory_bytes)} (address space per process)"
        )
    elif limit == "output_file_bytes":
        what = f"wrote a file larger than {format_bytes(limits.output_file_bytes)}"
    elif limit == "output_total_bytes":
        what = f"wrote more than {format_bytes(limits.output_total_bytes)} in all"
    elif limit == "output_files":
        what = f"wrote more than {limits.output_files:,} files and folders"
    elif limit == "wall_seconds":
        what = f"ran for longer than {format_seconds(limits.wall_seconds)}"
    else:
        raise ValueError(f"unknown resource limit {limit!r}")
    return f"the action {what}, the backend's limit ({limit}); nothing it wrote was kept"


def format_seconds(seconds: int) -> str:
    """``90`` -> ``"90 s"``, ``3600`` -> ``"1 h"``: the unit the operator would have written."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0 and seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def format_bytes(size: int) -> str:
    """``1048576`` -> ``"1 MiB"``; exact sizes in the largest unit that divides them."""
    for unit, scale in (("GiB", _GiB), ("MiB", _MiB), ("KiB", _KiB)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    for unit, scale in (("GiB", _GiB), ("MiB", _MiB), ("KiB", _KiB)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"
