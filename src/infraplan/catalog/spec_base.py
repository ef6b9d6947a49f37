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

And quoted numbers (hF, session 65): pydantic's lax mode reads the text "8" as 8 and "1e3" as 1000.0 in an int or
float field (the conversion table above, int and float in lax mode), so a system file's `total_accelerators: "8"`
or a stack's `matmul_max_fraction: {bf16: "0.7"}` read as numbers in silence, where the field's type is a number
and nothing was meant to read text there. It could not be refused while PyYAML's YAML 1.1 resolver read `3.9e12`
(no dot) as a string; the product's reader resolves YAML 1.2's numbers (`catalog.yaml_text`, hL60), so every
shipped file gives numbers there, and a field that takes only numbers (`takes_only_numbers`: int, float, numeric
Literals, at any depth of a list, a mapping's values or a union, without a text parser such as `BeforeValidator(
parse_power_w)`, which reads "700 W") now refuses a string that reads as a number: "total_accelerators: takes a
number, not the text '8': write it without quotes". Text that is no number keeps pydantic's own message. A Python
caller who reads a file with plain `yaml.safe_load` gets the string `3.9e12` and must read it with
`catalog.yaml_text.safe_load_yaml` (or write `3.9e+12`).
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainValidator,
    ValidationInfo,
    WrapValidator,
    field_validator,
)

BOOLEAN_NOT_A_NUMBER = "a boolean (true/false) is not a number; write the number"


_TEXT_READERS = (BeforeValidator, WrapValidator, PlainValidator)  # a field's own reader: it may take text
_NUMBER, _BOOL, _NONE, _READER, _OTHER = (frozenset({k}) for k in ("number", "bool", "none", "reader", "other"))


def leaf_kinds(annotation: Any) -> frozenset[str]:
    """What a field's type holds, at any depth of an Annotated, a union or optional, a list, tuple or set, or a
    mapping's values: "number" (int, float, a numeric Literal value), "bool", "none", "other" (text, a model, any
    other class or Literal value) and "reader" where an Annotated carries a text reader of its own (`_TEXT_READERS`,
    e.g. `BeforeValidator(parse_power_w)`, which reads "700 W"). The one walk of the three rules below."""
    if annotation in (int, float):
        return _NUMBER
    if annotation is bool or annotation is type(None):
        return _BOOL if annotation is bool else _NONE
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:  # (a bool, None or text value of a Literal is "other": pydantic compares it, reads none)
        return frozenset("number" if isinstance(a, int | float) and not isinstance(a, bool) else "other" for a in args)
    if origin is Annotated:
        reader = any(isinstance(m, _TEXT_READERS) for m in annotation.__metadata__)
        return leaf_kinds(args[0]) | _READER if reader else leaf_kinds(args[0])
    if origin in (dict, Mapping):
        return leaf_kinds(args[1]) if len(args) == 2 else _OTHER
    if origin in (list, tuple, Sequence, set, frozenset, Union, types.UnionType) and args:
        return frozenset().union(*(leaf_kinds(a) for a in args if a is not Ellipsis))
    return _OTHER


def takes_numbers(annotation: Any) -> bool:
    """Whether a field's type holds int or float values (itself, a numeric `Literal`, or inside a union, list or
    dict), and no bool at any depth. A numeric Literal counts: pydantic reads `true` as 1 there too (`default_zero:
    true` was ZeRO-1, hR55)."""
    kinds = leaf_kinds(annotation)
    return "number" in kinds and "bool" not in kinds  # `bool | float`: a boolean is one of its values


def takes_only_bools(annotation: Any) -> bool:
    """Whether a field's type holds booleans and nothing else but None (`bool`, `bool | None`, `list[bool]`,
    `dict[str, bool]`)."""
    return leaf_kinds(annotation) - _NONE - _READER == _BOOL


def takes_only_numbers(annotation: Any) -> bool:
    """Whether every value a field's type holds is a number (int, float, a numeric Literal; inside an Annotated
    without a text reader, a union or optional, a list or a mapping's values): no str, bool, model or other class."""
    return leaf_kinds(annotation) - _NONE == _NUMBER


# the containers a value read from a file nests values in, and with text the values the quoted-number check reads:
# tuples of classes, not `dict | list | tuple`, which builds a union at every call of the validator's path (hS65:
# 0.8 us an isinstance against 0.1, every field of every spec a file loads)
_NESTED = (dict, list, tuple)
_TEXT_OR_NESTED = (str, dict, list, tuple)


def _leaves(value: Any) -> Iterator[Any]:
    """A value read from a file, or the values at every depth of its mappings and lists (mapping keys skipped)."""
    if isinstance(value, _NESTED):
        for v in value.values() if isinstance(value, dict) else value:
            yield from _leaves(v)
    else:
        yield value


def holds_bool(value: Any) -> bool:
    """Whether a value read from a file holds a boolean, itself or at any depth of its mappings and lists."""
    if isinstance(value, _NESTED):
        return any(isinstance(v, bool) for v in _leaves(value))
    return isinstance(value, bool)  # (a scalar, most fields: no generator on the validator's common path)


@cache
def field_rules(cls: type[BaseModel], name: str) -> tuple[bool, bool, bool]:
    """Which of the three rules field `name` of `cls` is held to, read from its type (`leaf_kinds`) once a process,
    so that `Spec._no_booleans` looks up one entry a field: (takes numbers: a boolean is refused; takes only
    booleans: a string or a number is refused; takes only numbers and reads no text (`_reads_text`): a string that
    reads as a number is refused, module docstring, hF65)."""
    field = cls.model_fields.get(name)
    if field is None:
        return False, False, False
    kind = field.annotation
    return takes_numbers(kind), takes_only_bools(kind), takes_only_numbers(kind) and not _reads_text(cls, name)


def numeric_field(cls: type[BaseModel], name: str) -> bool:
    """Whether field `name` of `cls` takes numbers (`takes_numbers`): where a boolean is refused, here and in the
    web's request bodies (web/request_fields.WebRequest)."""
    return field_rules(cls, name)[0]


def _not_bool(value: Any) -> Any:
    """The first value within (at any depth of lists and mapping values) that is neither a boolean nor None."""
    return next((v for v in _leaves(value) if v is not None and not isinstance(v, bool)), None)


def only_bools_field(cls: type[BaseModel], name: str) -> bool:
    """Whether field `name` of `cls` takes only booleans (`takes_only_bools`): a string or a number is refused."""
    return field_rules(cls, name)[1]


def _reads_text(cls: type[BaseModel], name: str) -> bool:
    """Whether field `name` has a reader of its own before pydantic's: a `BeforeValidator` (or wrap / plain) in its
    metadata, or a `field_validator` of mode before / wrap / plain naming it (the catch-all `"*"` ones aside)."""
    field = cls.model_fields[name]
    if any(isinstance(m, _TEXT_READERS) for m in field.metadata):
        return True
    return any(dec.info.mode in ("before", "wrap", "plain") and name in dec.info.fields
               for dec in cls.__pydantic_decorators__.field_validators.values())


def only_numbers_field(cls: type[BaseModel], name: str) -> bool:
    """Whether field `name` of `cls` takes only numbers and reads no text (`takes_only_numbers`, `_reads_text`): a
    string that reads as a number is refused there (module docstring, hF65)."""
    return field_rules(cls, name)[2]


def _number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def quoted_number(value: Any) -> str | None:
    """The first string within (itself, or at any depth of its lists and mapping values) that Python reads as a
    number, as pydantic's lax mode does ("8", "1e3", " 0.5 "), else None."""
    if isinstance(value, _NESTED):
        return next((v for v in _leaves(value) if isinstance(v, str) and _number_text(v)), None)
    return value if isinstance(value, str) and _number_text(value) else None


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
        numeric, only_bools, only_numbers = field_rules(cls, name)
        if numeric and holds_bool(value):
            raise ValueError(BOOLEAN_NOT_A_NUMBER)
        if only_bools and (other := _not_bool(value)) is not None:
            raise ValueError(f"takes true or false, not {str(other)[:40]!r} (a {type(other).__name__})")
        if only_numbers and isinstance(value, _TEXT_OR_NESTED) and (text := quoted_number(value)) is not None:
            raise ValueError(f"takes a number, not the text {text[:40]!r}: write it without quotes")
        return value
