"""How a sweep searches: objective, search algorithm, budget, concurrency."""

from __future__ import annotations

from dataclasses import dataclass

SEARCHES = ("random", "grid", "optuna")
LABELLED_DEFAULT_METRIC = "bcubed_f"
UNLABELLED_DEFAULT_METRIC = "silhouette"


@dataclass
class SweepSettings:
    """How to search: the objective, the search algorithm, the budget and the concurrency."""

    metric: str | None = None  # None: bcubed_f with labels, silhouette without
    mode: str = "max"
    search: str = "random"
    num_samples: int = 20  # trials of random / optuna search (grid runs every point once)
    time_budget_s: float | None = None
    max_concurrent: int | None = None  # None: as many as the cluster's CPUs allow
    cpus_per_trial: float = 0.5
    seed: int = 0
