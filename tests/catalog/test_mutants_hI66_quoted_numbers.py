"""hI66 mutation wave on the quoted-number rule (`catalog.spec_base.takes_only_numbers` / `only_numbers_field`, hF65):
mutants C2, C3, C6, C8.

The rule (spec_base's docstring): a field whose type holds only numbers (int, float, a numeric Literal, at any depth
of a list, a mapping's values or a union) and that has no reader of its own refuses a string that reads as a number,
which pydantic's lax mode would read as one (pydantic 2 conversion table: str -> int / float in lax mode; shown below
on a plain model). A Literal with a text member takes text; a boolean is no number (`BOOLEAN_NOT_A_NUMBER`); a
variable-length tuple `tuple[int, ...]` holds ints only (typing: the Ellipsis marks the length, not a member); a
field validator of mode before, wrap or plain sees the raw value first, so it may read text ("700 W").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, BeforeValidator, Field, PlainValidator, ValidationError, WrapValidator, field_validator

from infraplan.catalog.spec_base import only_numbers_field, takes_only_numbers
from infraplan.catalog.stacks import Stack, load_stack


def test_literals_with_text_or_booleans_take_more_than_numbers() -> None:
    assert takes_only_numbers(Literal[0, 1, 2, 3]) and takes_only_numbers(Literal[0.5, 1])
    assert not takes_only_numbers(Literal[1, "auto"])  # C2: "auto" is text the field takes
    assert not takes_only_numbers(Literal[True])  # C3: a boolean is not a number
    assert not takes_only_numbers(Literal[0, False])


def test_a_variable_length_tuple_of_numbers_takes_only_numbers() -> None:
    assert takes_only_numbers(tuple[int, ...]) and takes_only_numbers(tuple[tuple[int, int], ...])  # C6
    assert not takes_only_numbers(tuple[str, ...])


def test_every_container_of_numbers_takes_only_numbers() -> None:
    """The abstract containers as the concrete ones (C16, C17; no shipped spec field uses the abstract ones, so the
    rule's words are pinned here: "a list or a mapping's values")."""
    for container in (tuple[int, int], Sequence[float], set[int], frozenset[float]):
        assert takes_only_numbers(container), container
    assert takes_only_numbers(Mapping[str, float]) and not takes_only_numbers(Mapping[str, str])


def test_an_annotated_text_reader_of_any_kind_takes_text() -> None:
    """BeforeValidator, WrapValidator and PlainValidator all see the raw value first (C14)."""
    assert takes_only_numbers(Annotated[float, Field(ge=0)])
    for reader in (BeforeValidator(float), WrapValidator(lambda v, h: h(v)), PlainValidator(float)):
        assert not takes_only_numbers(Annotated[float, reader]), reader


class _Plain(BaseModel):
    x: float


def _reader(mode: Any) -> type[BaseModel]:
    if mode == "wrap":
        class Wrapped(BaseModel):
            x: float

            @field_validator("x", mode="wrap")
            @classmethod
            def _watts(cls, value: Any, handler: Any) -> Any:
                return handler(value)

        return Wrapped

    class Read(BaseModel):
        x: float

        @field_validator("x", mode=mode)
        @classmethod
        def _watts(cls, value: Any) -> Any:
            return value

    return Read


@pytest.mark.parametrize("mode", ["before", "wrap", "plain"])
def test_a_field_with_its_own_reader_keeps_reading_text(mode: str) -> None:
    assert only_numbers_field(_Plain, "x")
    assert not only_numbers_field(_reader(mode), "x")  # C8: wrap / plain read the raw value too
    assert only_numbers_field(_reader("after"), "x")  # (after: pydantic's own reading came first)


def test_a_stacks_quoted_number_inside_a_tuple_of_pairs_is_refused() -> None:
    class Lax(BaseModel):
        plans: tuple[tuple[int, int], ...]

    assert Lax.model_validate({"plans": [["4", 2]]}).plans == ((4, 2),)  # pydantic's lax reading
    data = load_stack("nemo-26.04").model_dump()
    with pytest.raises(ValidationError, match=r"takes a number, not the text '4': write it without quotes"):
        Stack.model_validate({**data, "pipeline_layout_plans": [["4", 2]]})
