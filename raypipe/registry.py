"""Name -> implementation registries, imported lazily so optional dependencies stay optional."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class ComponentError(ValueError):
    """A component could not be built from its config (unknown name, missing dependency, bad setting)."""


def split_spec(spec: str | Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Return ``(name, params)`` from ``"name"`` or ``{"name": ..., **params}``."""
    if isinstance(spec, str):
        return spec, {}
    params = dict(spec)
    try:
        name = params.pop("name")
    except KeyError:
        raise ComponentError(f"component spec {dict(spec)!r} has no 'name'") from None
    return str(name), params


class Registry(Generic[T]):
    """Maps names to ``"module:attribute"`` targets, imported only when built.

    >>> reg = Registry("demo", {"ordered": "collections:OrderedDict"})
    >>> reg.build({"name": "ordered"})
    OrderedDict()
    """

    def __init__(self, kind: str, targets: Mapping[str, str]):
        self.kind = kind
        self._targets = dict(targets)

    def names(self) -> list[str]:
        return sorted(self._targets)

    def resolve(self, name: str) -> type[T]:
        """Import and return the class registered as ``name``."""
        try:
            target = self._targets[name]
        except KeyError:
            raise ComponentError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}"
            ) from None
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise ComponentError(
                f"{self.kind} {name!r} needs the optional dependency {err.name!r}: "
                f"pip install {err.name} (or the raypipe extra that provides it)"
            ) from err
        return getattr(module, attr)

    def build(self, spec: str | Mapping[str, Any], **extra: Any) -> T:
        """Build the component named in ``spec`` with its params (and ``extra`` keyword args)."""
        name, params = split_spec(spec)
        cls = self.resolve(name)
        try:
            return cls(**params, **extra)
        except ComponentError:
            raise
        except (TypeError, ValueError) as err:  # an unknown setting, or a value of the wrong kind
            raise ComponentError(f"bad settings for {self.kind} {name!r}: {err}") from err
