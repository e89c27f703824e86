"""The HTML report of a run: summary, one gallery per cluster, map, confusion, sweep, errors."""

from raypipe.report.build import write_report
from raypipe.report.options import ReportOptions

__all__ = ["ReportOptions", "write_report"]
