"""Registry of rule classes, keyed by rule id; one module per section of the standard."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from scanners.rules.base import AttestRule, Rule

__all__ = ["AttestRule", "RegistryError", "Rule", "register", "registry"]


class RegistryError(RuntimeError):
    """A rule class is malformed or its id is taken."""


_REGISTRY: dict[str, type[Rule]] = {}


def register[R: type[Rule]](cls: R) -> R:
    """Class decorator: add a rule class to the registry; fail loudly on a bad entry."""
    rule_id = getattr(cls, "id", "")
    if not rule_id:
        raise RegistryError(f"{cls.__qualname__} has no id")
    if not (cls.__doc__ or "").strip():
        raise RegistryError(f"{rule_id}: a rule class needs a one-line docstring")
    existing = _REGISTRY.get(rule_id)
    if existing is not None and existing is not cls:
        raise RegistryError(
            f"{rule_id} is registered twice: {existing.__qualname__}, {cls.__qualname__}"
        )
    _REGISTRY[rule_id] = cls
    return cls


@cache
def registry() -> dict[str, type[Rule]]:
    """Import every section module once and return id -> rule class."""
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base":
            importlib.import_module(f"{__name__}.{module.name}")
    return dict(_REGISTRY)
