"""The HTML report of a run: summary, one gallery per cluster, map, confusion, sweep, errors."""

from raypipe.report.build import ReportOptions, write_report

__all__ = ["ReportOptions", "write_report"]
