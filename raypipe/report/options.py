"""What a report shows and how much of it: the options every part of the report reads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ReportOptions:
    """What the report shows and how much of it (the caps keep pages light for 100k faces)."""

    labels: str | None = None
    single_file: bool = False
    max_galleries: int = 60
    chips_per_cluster: int = 24
    mean_face_chips: int = 100
    max_table_rows: int = 500
    max_points: int = 1000
    max_labels: int = 40
    projection: str = "auto"
    seed: int = 0
