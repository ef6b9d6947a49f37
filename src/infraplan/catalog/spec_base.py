"""The base of every spec a file or a request is read into (`Spec`): frozen, no unknown key, no NaN or infinity, and
no boolean where a number goes.

pydantic's lax mode reads `true` as 1 in an int or float field (and the unit parsers did too): `matmul_max_fraction:
{bf16: true}` was a GEMM at 100 % of peak, `qps: true` one query a second, a video device's `reference_fps: {high:
true}` one frame a second, all without a word (hX50, session 46). `PlanSpec` (planning.scenario_spec) refused it for
the scenario and fleet-mix files since hC3; the rule now sits here, so every catalog file (accelerator, system,
stack, recsys and video device, facility, prices) and every spec built on them refuses it alike, at any depth of
a numeric field (a dict of fractions, a list of heights). A field whose type admits a bool (`bool | float`) keeps
taking one.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

BOOLEAN_NOT_A_NUMBER = "a boolean (true/false) is not a number; write the number"


def takes_numbers(annotation: Any) -> bool:
    """Whether a field's type holds int or float values (itself, a numeric `Literal`, or inside a union, list or
    dict), and no bool. A numeric Literal counts: pydantic reads `true` as 1 there too (`default_zero: true` was
    ZeRO-1, hR55)."""
    if annotation in (int, float):
        return True
    args = get_args(annotation)
    if get_origin(annotation) is Literal:
        return any(isinstance(a, int | float) and not isinstance(a, bool) for a in args)
    if annotation is bool:
        return False
    if get_origin(annotation) is Annotated:
        return takes_numbers(args[0])
    return bool not in args and any(map(takes_numbers, args))  # `bool | float`: a boolean is one of its values


def holds_bool(value: Any) -> bool:
    """Whether a value read from a file holds a boolean, itself or at any depth of its mappings and lists."""
    if isinstance(value, dict):
        return any(map(holds_bool, value.values()))
    if isinstance(value, list | tuple):
        return any(map(holds_bool, value))
    return isinstance(value, bool)


@cache
def numeric_field(cls: type[BaseModel], name: str) -> bool:
    """Whether field `name` of `cls` takes numbers (`takes_numbers`): where a boolean is refused, here and in the
    web's request bodies (web/request_fields.WebRequest)."""
    field = cls.model_fields.get(name)
    return field is not None and takes_numbers(field.annotation)


class Spec(BaseModel):
    """Base for catalog specs: immutable, no unknown fields, no boolean read as a number (module docstring).

    `defer_build`: a spec's validator is built on its first use, not at import (pydantic 2.14
    `_model_construction.py:248`), so a command builds only the specs it reads (hP5: `train` start-up).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is not None and holds_bool(value) and numeric_field(cls, info.field_name):
            raise ValueError(BOOLEAN_NOT_A_NUMBER)
        return value
