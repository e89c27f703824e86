"""Search spaces for ``raypipe tune``: a small YAML format, parsed to a Ray Tune search space.

A space file names the families to try and, per family, its settings; a setting is a plain
value (kept fixed) or a *domain*, a one-key mapping::

    clusterer:                    # required: clusterer families (CLUSTERERS names)
      agglomerative:
        linkage: average                       # fixed
        threshold: {uniform: [0.05, 0.5]}      # float in [low, high]
      hdbscan:
        min_cluster_size: {int: [2, 8]}        # integer in [low, high], both included
    reducer:                      # optional: "none" clusters the vectors as they are
      none: {}
      pca:
        n_components: {choice: [16, 32, 64]}  # one of the listed scalars
    feature: {choice: [null, hog, lbp]}        # optional: RUN/features/<name>; null = the run's embedding

Domains: ``choice`` (list of scalars), ``uniform`` and ``loguniform`` ([low, high] floats),
``int`` ([low, high], inclusive). A trial first picks a family (uniformly, or as the search
algorithm proposes), then that family's settings. ``--search grid`` enumerates every
combination and so accepts only ``choice`` and ``int`` domains.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from raypipe.config import ConfigError

DOMAINS = ("choice", "uniform", "loguniform", "int")
NO_REDUCER = "none"
#: Key of the Tune search space under which ``--search grid`` lists its points.
GRID_KEY = "grid_point"


@dataclass(frozen=True)
class Candidate:
    """One configuration a trial fits: an optional feature and reducer, and a clusterer."""

    clusterer: dict[str, Any]
    reducer: dict[str, Any] | None = None
    feature: str | None = None


def _domain(value: Any) -> tuple[str, Any] | None:
    """``(kind, args)`` when ``value`` is a domain mapping, else None (a fixed value)."""
    if isinstance(value, Mapping) and len(value) == 1:
        kind, args = next(iter(value.items()))
        if kind in DOMAINS:
            return kind, args
    return None


def _check_domain(where: str, kind: str, args: Any) -> None:
    if kind == "choice":
        if not isinstance(args, list) or not args:
            raise ConfigError(f"{where}: 'choice' needs a non-empty list, got {args!r}")
        if any(isinstance(v, (Mapping, list)) for v in args):
            raise ConfigError(f"{where}: 'choice' values must be scalars, got {args!r}")
        return
    if not (
        isinstance(args, list) and len(args) == 2 and all(isinstance(v, (int, float)) for v in args)
    ):
        raise ConfigError(f"{where}: {kind!r} needs [low, high], got {args!r}")
    if args[0] > args[1] or (kind == "loguniform" and args[0] <= 0):
        raise ConfigError(f"{where}: bad bounds {args!r} for {kind!r}")


def _tune_domain(kind: str, args: Any):
    from ray import tune

    if kind == "choice":
        return tune.choice(args)
    if kind == "int":
        return tune.randint(int(args[0]), int(args[1]) + 1)
    return getattr(tune, kind)(float(args[0]), float(args[1]))


def _grid_values(where: str, kind: str, args: Any) -> list[Any]:
    if kind == "choice":
        return list(args)
    if kind == "int":
        return list(range(int(args[0]), int(args[1]) + 1))
    raise ConfigError(
        f"{where}: grid search needs discrete values, use {{choice: [...]}} instead of {kind!r}"
    )


class SearchSpace:
    """A parsed space file: clusterer and reducer families with their settings, feature names."""

    def __init__(
        self,
        clusterers: Mapping[str, Mapping],
        reducers: Mapping[str, Mapping] | None = None,
        feature: Any = None,
    ):
        if not clusterers:
            raise ConfigError(
                "a search space needs at least one clusterer family under 'clusterer'"
            )
        self.families = {
            "clusterer": self._families("clusterer", clusterers),
            "reducer": self._families("reducer", reducers or {NO_REDUCER: {}}),
        }
        self.feature = feature
        domain = _domain(feature)
        if domain is not None:
            _check_domain("feature", *domain)
        elif feature is not None and not isinstance(feature, str):
            raise ConfigError(
                f"feature: expected a name, null or {{choice: [...]}}, got {feature!r}"
            )

    @staticmethod
    def _families(section: str, families: Mapping[str, Mapping]) -> dict[str, dict]:
        if not isinstance(families, Mapping):
            raise ConfigError(
                f"{section}: expected a mapping of family name -> settings, got {families!r}"
            )
        checked = {}
        for name, settings in families.items():
            settings = dict(settings or {})
            for key, value in settings.items():
                domain = _domain(value)
                if domain is not None:
                    _check_domain(f"{section}.{name}.{key}", *domain)
            checked[str(name)] = settings
        return checked

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchSpace:
        unknown = set(data) - {"clusterer", "reducer", "feature"}
        if unknown:
            raise ConfigError(
                f"unknown section(s) {sorted(unknown)} in a search space; known: clusterer, reducer, feature"
            )
        return cls(data.get("clusterer") or {}, data.get("reducer"), data.get("feature"))

    @classmethod
    def from_yaml(cls, path: str | Path) -> SearchSpace:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(data, Mapping):
            raise ConfigError(f"{path}: expected a mapping at the top level")
        return cls.from_dict(data)

    def feature_names(self) -> list[str | None]:
        """Every feature a trial may pick (None: the run's embedding)."""
        domain = _domain(self.feature)
        return list(domain[1]) if domain else [self.feature]

    def _entries(self) -> Iterator[tuple[str, Any]]:
        """``(flat key, value or domain)`` of everything a trial samples."""
        yield "feature", self.feature
        for section, families in self.families.items():
            yield section, {"choice": list(families)} if len(families) > 1 else next(iter(families))
            for name, settings in families.items():
                for key, value in settings.items():
                    yield f"{section}.{name}.{key}", value

    def tune_space(self, search: str) -> dict[str, Any]:
        """The Tune ``param_space``: flat domains, or the list of points for ``grid``."""
        if search == "grid":
            from ray import tune

            return {GRID_KEY: tune.grid_search(self.grid_points())}
        return {
            key: _tune_domain(*_domain(value)) for key, value in self._entries() if _domain(value)
        }

    def grid_points(self) -> list[dict[str, Any]]:
        """Every combination of feature x reducer family and settings x clusterer family and settings."""
        axes = [[{"feature": name} for name in self.feature_names()]]
        for section, families in self.families.items():
            options = []
            for name, settings in families.items():
                keys, values = [], []
                for key, value in settings.items():
                    domain = _domain(value)
                    if domain:
                        keys.append(f"{section}.{name}.{key}")
                        values.append(_grid_values(f"{section}.{name}.{key}", *domain))
                options += [
                    {section: name, **dict(zip(keys, combo))}
                    for combo in itertools.product(*values)
                ]
            axes.append(options)
        return [
            {k: v for part in combo for k, v in part.items()} for combo in itertools.product(*axes)
        ]

    def candidate(self, sample: Mapping[str, Any]) -> Candidate:
        """The configuration of one trial from its sampled flat values."""
        sample = sample.get(GRID_KEY, sample)
        specs = {}
        for section, families in self.families.items():
            name = sample.get(section, next(iter(families)))
            settings = {
                key: sample.get(f"{section}.{name}.{key}", value)
                for key, value in families[name].items()
            }
            specs[section] = {"name": name, **settings}
        reducer = None if specs["reducer"]["name"] == NO_REDUCER else specs["reducer"]
        return Candidate(
            clusterer=specs["clusterer"],
            reducer=reducer,
            feature=sample.get("feature", self.feature),
        )
