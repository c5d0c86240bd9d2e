"""Backend data-quality reports: per-table metrics, disclosure-controlled (docs/debugging.md)."""

from fedsafe.quality.metrics import BackendMetrics, TableMetrics, compute_backend_metrics
from fedsafe.quality.write import write_backend_metrics

__all__ = ["BackendMetrics", "TableMetrics", "compute_backend_metrics", "write_backend_metrics"]
