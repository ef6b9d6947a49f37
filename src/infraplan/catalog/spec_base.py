"""The base of every spec a file or a request is read into (`Spec`): frozen, no unknown key, no NaN or infinity, and
no boolean where a number goes.

pydantic's lax mode reads `true` as 1 in an int or float field (and the unit parsers did too): `matmul_max_fraction:
{bf16: true}` was a GEMM at 100 % of peak, `qps: true` one query a second, a video device's `reference_fps: {high:
true}` one frame a second, all without a word (hX50, session 46). `PlanSpec` (planning.scenario_spec) refused it for
the scenario and fleet-mix files since hC3; the rule now sits here, so every catalog file (accelerator, system,
stack, recsys and video device, facility, prices) and every spec built on them refuses it alike, at any depth of
a numeric field (a dict of fractions, a list of heights). A field whose type admits a bool (`bool | float`) keeps
taking one.

The converse too (hL, session 64): pydantic's lax mode reads the strings "yes", "y", "on", "t", "true", "1" (and
"no", "off", "0", ...) and the numbers 1 and 0 as booleans (pydantic's conversion table, docs.pydantic.dev/2.14/
concepts/conversion_table/, bool in lax mode; measured on pydantic 2.14.4 / pydantic-core 2.50.5), so a stack file's
quoted `cuda_graphs: "yes"` ran with graphs on and `cuda_graphs: "off"` with them off, both without a word (hH64). A
field that takes only booleans (`bool`, `bool | None`, at any depth of a list or mapping) now refuses anything but
`true` / `false` (or null where the field admits it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
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


def _leaves(value: Any) -> Iterator[Any]:
    """A value read from a file, or the values at every depth of its mappings and lists (mapping keys skipped)."""
    if isinstance(value, dict | list | tuple):
        for v in value.values() if isinstance(value, dict) else value:
            yield from _leaves(v)
    else:
        yield value


def holds_bool(value: Any) -> bool:
    """Whether a value read from a file holds a boolean, itself or at any depth of its mappings and lists."""
    if isinstance(value, dict | list | tuple):
        return any(isinstance(v, bool) for v in _leaves(value))
    return isinstance(value, bool)  # (a scalar, most fields: no generator on the validator's common path)


@cache
def numeric_field(cls: type[BaseModel], name: str) -> bool:
    """Whether field `name` of `cls` takes numbers (`takes_numbers`): where a boolean is refused, here and in the
    web's request bodies (web/request_fields.WebRequest)."""
    field = cls.model_fields.get(name)
    return field is not None and takes_numbers(field.annotation)


def takes_only_bools(annotation: Any) -> bool:
    """Whether a field's type holds booleans and nothing else but None (`bool`, `bool | None`, `list[bool]`,
    `dict[str, bool]`)."""
    if annotation is bool:
        return True
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return takes_only_bools(args[0])
    if origin in (dict, Mapping):
        return len(args) == 2 and takes_only_bools(args[1])
    if origin in (list, tuple, Sequence):
        return bool(args) and all(a is Ellipsis or takes_only_bools(a) for a in args)
    members = [a for a in args if a is not type(None)]
    return bool(members) and all(map(takes_only_bools, members))


def _not_bool(value: Any) -> Any:
    """The first value within (at any depth of lists and mapping values) that is neither a boolean nor None."""
    return next((v for v in _leaves(value) if v is not None and not isinstance(v, bool)), None)


@cache
def only_bools_field(cls: type[BaseModel], name: str) -> bool:
    """Whether field `name` of `cls` takes only booleans (`takes_only_bools`): a string or a number is refused."""
    field = cls.model_fields.get(name)
    return field is not None and takes_only_bools(field.annotation)


class Spec(BaseModel):
    """Base for catalog specs: immutable, no unknown fields, no boolean read as a number (module docstring).

    `defer_build`: a spec's validator is built on its first use, not at import (pydantic 2.14
    `_model_construction.py:248`), so a command builds only the specs it reads (hP5: `train` start-up).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name
        if name is None:
            return value
        if holds_bool(value) and numeric_field(cls, name):
            raise ValueError(BOOLEAN_NOT_A_NUMBER)
        if only_bools_field(cls, name) and (other := _not_bool(value)) is not None:
            raise ValueError(f"takes true or false, not {str(other)[:40]!r} (a {type(other).__name__})")
        return value
