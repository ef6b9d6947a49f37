"""Every `Spec` subclass the given packages define, and its fields a predicate picks (shared by the strict-boolean
test, hL64, and the quoted-number test, hF65): each package's modules are imported so every class is defined; and
what a field alone given a value is told (`field_errors`)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from types import ModuleType
from typing import Any

from pydantic import ValidationError

from infraplan.catalog.spec_base import Spec


def _specs(cls: type[Spec] = Spec) -> list[type[Spec]]:
    return [s for sub in cls.__subclasses__() for s in (sub, *_specs(sub))]


def spec_fields(packages: tuple[ModuleType, ...],
                picks: Callable[[type[Spec], str], bool]) -> list[tuple[type[Spec], str]]:
    """(spec class, field name) of every field `picks`, over the specs `packages` define, in module / class / field
    order."""
    for package in packages:
        for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
            importlib.import_module(info.name)
    return sorted({(cls, name) for cls in _specs() for name in cls.model_fields if picks(cls, name)},
                  key=lambda p: (p[0].__module__, p[0].__name__, p[1]))


def field_errors(cls: type[Spec], name: str, value: Any) -> list[str]:
    """pydantic's messages about field `name` where `cls` is given `{name: value}` alone (the other fields' errors,
    such as the required ones missing, left out)."""
    try:
        cls.model_validate({name: value})
    except ValidationError as exc:
        return [e["msg"] for e in exc.errors() if e["loc"][:1] == (name,)]
    return []
