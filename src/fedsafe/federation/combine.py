"""``combine_released``: one call from a folder of released files to a folder of combined ones.

The command line (``fedsafe combine``), a ``fedsafe:v1 combine`` action in ``project.yaml`` and
the coordinator all call this function. It reads everything and computes every result before
writing anything; results are written to a hidden folder beside the output and renamed into
place at the end, so bad input, or a crash, leaves the previous output as it was.

Output folder::

    manifest.json                  inputs (backend, path, sha256), outputs, skipped files, policy
    meta/<name>.csv                one row per term: fixed and random effects, Q, I², tau²
    tables/<path>                  pooled tables, re-protected, each with its sidecar
    charts/<name>.forest.{svg,png} forest plots;  charts/<name>.{svg,png} measures over time
    quality/<folder>/...           data-quality reports (``fedsafe backend report``) side by
                                   side per backend, with rows per 1,000 patients by month
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow.csv

from fedsafe.disclosure import DisclosurePolicy, Status, check_output_file, write_sidecar
from fedsafe.federation.charts import forest_plot, time_series
from fedsafe.federation.errors import CombineError, ReleasedFilesError
from fedsafe.federation.estimates import (
    EffectRow,
    EstimatesFile,
    ProportionRow,
    is_estimates_header,
    read_estimates,
)
from fedsafe.federation.layout import find_released
from fedsafe.federation.meta import MetaResult, expit, meta_analyse, proportion_effects
from fedsafe.federation.pooling import PooledTable, SkipTable, pool_tables
from fedsafe.federation.quality import compare_reports, find_quality_reports, write_comparisons

__all__ = ["MANIFEST", "CombineReport", "combine_released"]

MANIFEST = "manifest.json"
FORMAT_KEY = "fedsafe_combine"
META_COLUMNS = (
    "term",
    "scale",
    "k",
    "backends",
    "fixed_estimate",
    "fixed_std_error",
    "fixed_ci_low",
    "fixed_ci_high",
    "random_estimate",
    "random_std_error",
    "random_ci_low",
    "random_ci_high",
    "q",
    "df",
    "q_p_value",
    "i2",
    "tau2",
)


@dataclass(frozen=True)
class CombineReport:
    """What one combine wrote: the output folder and its manifest (as saved)."""

    output_dir: Path
    manifest: dict[str, Any] = field(hash=False)

    @property
    def outputs(self) -> list[str]:
        return [o["path"] for o in self.manifest["outputs"]]

    @property
    def skipped(self) -> list[dict[str, str]]:
        return list(self.manifest["skipped"])


@dataclass(frozen=True)
class _Meta:
    relative: str
    results: tuple[MetaResult, ...]
    withheld: dict[str, list[str]]  # term -> backends that withheld or lacked it


@dataclass(frozen=True)
class _Pooled:
    relative: str
    backends: tuple[str, ...]
    pooled: PooledTable


def combine_released(
    released_dir: Path | str,
    output_dir: Path | str,
    policy: DisclosurePolicy | None = None,
) -> CombineReport:
    """Combine ``released_dir/<backend>/<files>`` into ``output_dir``; see the module docstring.

    ``policy`` is re-applied to pooled tables (default: fedsafe's default policy). Bad input
    raises a CombineError (or another FedsafeError naming the file) and writes nothing.
    """
    policy = policy or DisclosurePolicy()
    released = find_released(Path(released_dir))
    output_dir = Path(output_dir)
    _check_output_dir(output_dir, released.root)
    metas: list[_Meta] = []
    pooled: list[_Pooled] = []
    skipped: list[dict[str, str]] = []
    # Data-quality reports are compared side by side, not pooled (see federation.quality).
    reports = find_quality_reports(released.files)
    comparisons = [compare_reports(report, policy) for report in reports]
    in_reports = frozenset().union(*(report.members for report in reports))
    for relative, files in released.files.items():
        if relative in in_reports:
            continue
        if _is_estimates(files):
            metas.append(_meta_analyse(relative, files))
            continue
        try:
            table = pool_tables(files, policy, relative=relative)
        except SkipTable as why:
            skipped.append({"path": relative, "reason": str(why)})
            continue
        pooled.append(_Pooled(relative, tuple(files), table))
    inputs = [
        {"backend": backend, "path": relative, "sha256": _sha256(path)}
        for relative, files in released.files.items()
        for backend, path in files.items()
    ]
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", dir=output_dir.parent))
    try:
        outputs = _write_all(staging, metas, pooled, policy, skipped)
        outputs += write_comparisons(staging, comparisons, policy, skipped)
        manifest = {
            FORMAT_KEY: 1,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "backends": list(released.backends),
            "policy": policy.to_dict(),
            "inputs": inputs,
            "outputs": outputs,
            "skipped": skipped,
            "methods": {
                "meta_analysis": "fixed effect (inverse variance) and DerSimonian-Laird random "
                "effects; proportions on the log-odds scale",
                "pooled_tables": "counts summed over backends; a cell redacted by any backend "
                "is redacted; policy re-applied",
            },
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if output_dir.exists():
            shutil.rmtree(output_dir)
        os.replace(staging, output_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return CombineReport(output_dir, manifest)


def _check_output_dir(output_dir: Path, released_root: Path) -> None:
    """Refuse an output folder that holds anything but a previous combine, or that overlaps the
    released files: replacing it must never delete someone's other work or the inputs."""
    resolved, root = output_dir.resolve(), released_root.resolve()
    if resolved == root or root in resolved.parents or resolved in root.parents:
        raise CombineError(
            f"{output_dir}: the output folder must be outside the released files ({released_root})"
        )
    if output_dir.is_symlink() or (output_dir.exists() and not output_dir.is_dir()):
        raise CombineError(f"{output_dir}: exists and is not a folder")
    # Folders alone hold nothing to lose: a pipeline run leaves them when it removes the
    # action's previous outputs before running it again.
    if output_dir.is_dir() and any(p.is_file() or p.is_symlink() for p in output_dir.rglob("*")):
        manifest = output_dir / MANIFEST
        try:
            ours = FORMAT_KEY in json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError):
            ours = False
        if not ours:
            raise CombineError(
                f"{output_dir}: not empty and not the output of an earlier combine; choose an "
                "empty or new folder"
            )


def _is_estimates(files: dict[str, Path]) -> bool:
    path = next(iter(files.values()))
    if not path.name.lower().endswith(".csv"):
        return False
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    return is_estimates_header(header)


def _meta_analyse(relative: str, files: dict[str, Path]) -> _Meta:
    parsed: dict[str, EstimatesFile] = {b: read_estimates(p) for b, p in files.items()}
    kinds = {f.kind for f in parsed.values()}
    if len(kinds) > 1:
        described = ", ".join(f"{b}: {f.kind}" for b, f in parsed.items())
        raise ReleasedFilesError(
            f"{relative}: the backends released different kinds of estimates file ({described})"
        )
    terms: list[str] = []
    for estimates in parsed.values():
        terms.extend(r.term for r in estimates.rows if r.term not in terms)
    results: list[MetaResult] = []
    withheld: dict[str, list[str]] = {}
    for term in terms:
        backends: list[str] = []
        values: list[float] = []
        errors: list[float] = []
        for backend, estimates in parsed.items():
            row = next((r for r in estimates.rows if r.term == term), None)
            pair = _effect(row) if row is not None else None
            if pair is None:
                withheld.setdefault(term, []).append(backend)
                continue
            backends.append(backend)
            values.append(pair[0])
            errors.append(pair[1])
        if backends:
            scale = "logit" if kinds == {"proportions"} else "identity"
            results.append(meta_analyse(term, backends, values, errors, scale=scale))
    return _Meta(relative, tuple(results), withheld)


def _effect(row: EffectRow | ProportionRow) -> tuple[float, float] | None:
    if isinstance(row, EffectRow):
        if row.estimate is None or row.std_error is None:
            return None
        return row.estimate, row.std_error
    if row.events is None or row.total is None:
        return None
    return proportion_effects(row.events, row.total)


def _write_all(
    staging: Path,
    metas: list[_Meta],
    pooled: list[_Pooled],
    policy: DisclosurePolicy,
    skipped: list[dict[str, str]],
) -> list[dict[str, Any]]:
    """Write every result into ``staging``; pooled tables that a person must review first are
    left out and added to ``skipped``, since combined outputs may be published unattended."""
    outputs: list[dict[str, Any]] = []

    def record(path: Path, kind: str, source: str, backends: list[str], **extra: Any) -> None:
        outputs.append(
            {
                "path": path.relative_to(staging).as_posix(),
                "kind": kind,
                "from": source,
                "backends": backends,
                "sha256": _sha256(path),
                **extra,
            }
        )

    for meta in metas:
        stem = _stem(meta.relative)
        path = staging / "meta" / f"{stem}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_meta_csv(meta.results), encoding="utf-8")
        used = sorted({b for r in meta.results for b in r.backends})
        record(path, "meta_analysis", meta.relative, used, withheld=meta.withheld)
        if meta.results:
            for chart in forest_plot(
                meta.results, staging / "charts" / f"{stem}.forest", title=meta.relative
            ):
                record(chart, "forest_plot", meta.relative, used)
    for item in pooled:
        path = staging / "tables" / item.relative
        path.parent.mkdir(parents=True, exist_ok=True)
        pyarrow.csv.write_csv(item.pooled.table, str(path))
        write_sidecar(path, item.pooled.record)
        report = check_output_file(path, policy)
        problems = "; ".join(f.reason for f in report.findings if f.status is not Status.PASS)
        if report.status is Status.FAIL:
            # The table was protected with this very policy: a failure is a fault in fedsafe,
            # and publishing nothing is the only safe answer.
            raise CombineError(
                f"{item.relative}: the pooled table did not pass the disclosure checks, so "
                f"nothing was written ({problems})"
            )
        if report.status is Status.NEEDS_REVIEW:
            path.unlink()
            path.with_name(path.name + ".disclosure.json").unlink()
            skipped.append(
                {"path": item.relative, "reason": f"the pooled table needs review: {problems}"}
            )
            continue
        record(
            path,
            "pooled_measures" if item.pooled.is_measures else "pooled_counts",
            item.relative,
            list(item.backends),
            cells_redacted_by_a_backend=item.pooled.withheld_by_backend,
            cells_missing_from_a_backend=item.pooled.unreported,
        )
        if item.pooled.is_measures and "interval_start" in item.pooled.table.column_names:
            for chart in time_series(
                item.pooled.table, staging / "charts" / _stem(item.relative), title=item.relative
            ):
                record(chart, "time_series", item.relative, list(item.backends))
    return outputs


def _meta_csv(results: tuple[MetaResult, ...]) -> str:
    proportions = any(r.scale == "logit" for r in results)
    columns = [*META_COLUMNS, *(("fixed_proportion", "random_proportion") if proportions else ())]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for r in results:
        row: list[Any] = [
            r.term,
            r.scale,
            r.k,
            " ".join(r.backends),
            *_numbers(r.fixed.estimate, r.fixed.std_error, r.fixed.ci_low, r.fixed.ci_high),
            *_numbers(r.random.estimate, r.random.std_error, r.random.ci_low, r.random.ci_high),
            repr(r.q),
            r.df,
            "" if r.q_p_value is None else repr(r.q_p_value),
            repr(r.i2),
            repr(r.tau2),
        ]
        if proportions:
            row += [repr(expit(r.fixed.estimate)), repr(expit(r.random.estimate))]
        writer.writerow(row)
    return buffer.getvalue()


def _numbers(*values: float) -> list[str]:
    # repr keeps every digit, so a reader gets back exactly the float that was computed.
    return [repr(v) for v in values]


def _stem(relative: str) -> str:
    path = PurePosixPath(relative)
    name = path.name.split(".")[0]
    return (path.parent / name).as_posix().replace("/", "__")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
