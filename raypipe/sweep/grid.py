"""An explicit grid of candidates for Ray Tune: ``raypipe features sweep`` runs each one once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from raypipe.sweep.space import GRID_KEY, Candidate


class CandidateGrid:
    """Candidates listed one by one (as :class:`~raypipe.sweep.space.SearchSpace` is sampled)."""

    def __init__(self, candidates: Iterable[Candidate]):
        self.candidates = list(candidates)

    def feature_names(self) -> list[str | None]:
        return list(dict.fromkeys(c.feature for c in self.candidates))

    def tune_space(self, search: str) -> dict[str, Any]:
        """Tune's ``param_space``: a grid over the candidates' positions (only ``grid`` search)."""
        from ray import tune

        if search != "grid":
            raise ValueError(f"a list of candidates is run as a grid, not a {search!r} search")
        return {GRID_KEY: tune.grid_search(list(range(len(self.candidates))))}

    def candidate(self, sample: Mapping[str, Any]) -> Candidate:
        return self.candidates[sample[GRID_KEY]]
