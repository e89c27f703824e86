"""Every registered clusterer, reducer and feature extractor takes its settings by keyword only."""

from __future__ import annotations

import inspect

import pytest

from raypipe.cluster import CLUSTERERS
from raypipe.features import FEATURES
from raypipe.reduce import REDUCERS

ESTIMATORS = [(registry, name) for registry in (CLUSTERERS, REDUCERS, FEATURES) for name in registry.names()]


@pytest.mark.parametrize(("registry", "name"), ESTIMATORS, ids=[f"{r.kind}-{n}" for r, n in ESTIMATORS])
def test_estimator_parameters_are_keyword_only(registry, name):
    init = registry.resolve(name).__init__
    parameters = [] if init is object.__init__ else list(inspect.signature(init).parameters.values())[1:]
    positional = [p.name for p in parameters if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    assert not positional, f"{name}: {positional} may be passed by position"
