"""Ray Tune sweeps over feature x reducer x clusterer configurations of an extracted run.

:func:`raypipe.sweep.tuner.run_sweep` samples configurations from a space file
(:mod:`raypipe.sweep.space`), fits and scores each in a Tune trial (:mod:`raypipe.sweep.trial`),
and writes ``RUN/tune/results.csv`` and ``RUN/tune/best_config.yaml``. This package imports
neither Ray nor the clustering stack until a sweep runs.
"""

from raypipe.sweep.settings import SEARCHES, SweepSettings
from raypipe.sweep.space import Candidate, SearchSpace

__all__ = ["SEARCHES", "Candidate", "SearchSpace", "SweepSettings"]
