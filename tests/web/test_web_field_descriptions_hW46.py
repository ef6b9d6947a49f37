"""Every field of every web request model says what it is (hW46): /docs and /openapi.json showed 94 of them bare.

A description must be the field's own: not empty, not the field's name, and not only the generic words of its
type (`Degree`'s "parallel degree", `Accelerators`' "accelerators (count)" ...), which say the unit but not what
the field is.
"""

from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from infraplan import limits
from infraplan.web import request_fields
from infraplan.web.infrastructure_requests import ScenarioInput
from infraplan.web.requests import REQUESTS

MODELS: list[type[BaseModel]] = [*REQUESTS.values(), ScenarioInput]


def _type_words() -> set[str]:
    """The descriptions the shared field types carry (what a field without its own description shows)."""
    words = set()
    for module in (limits, request_fields):
        for value in vars(module).values():
            for meta in getattr(value, "__metadata__", ()):
                if isinstance(meta, FieldInfo) and meta.description:
                    words.add(meta.description)
    return words


GENERIC = _type_words()


def test_the_generic_type_words_are_found() -> None:
    """The check below is only as good as this set: it holds the words of Degree, Accelerators and PresetName."""
    assert {"parallel degree", "accelerators (count)", "random seed"} <= GENERIC
    assert any(w.startswith("catalog preset name") for w in GENERIC)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_field_has_its_own_description(model: type[BaseModel]) -> None:
    bare = []
    for name, field in model.model_fields.items():
        text = (field.description or "").strip()
        if not text or text.lower() in (name.lower(), name.replace("_", " ").lower()) or text in GENERIC:
            bare.append(f"{name}: {text!r}")
    assert not bare, f"{model.__name__} fields without their own description: {bare}"


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_the_schema_shows_each_description(model: type[BaseModel]) -> None:
    """/openapi.json (and /docs, built from it) carries the field's description at the property's top level."""
    props = model.model_json_schema()["properties"]
    for name, field in model.model_fields.items():
        assert props[name].get("description") == field.description, name


def test_descriptions_keep_the_bounds() -> None:
    """Describing a field changes no bound: TP 0 is still refused, and a degree's maximum is the CLI's."""
    train = REQUESTS["train"]
    props = train.model_json_schema()["properties"]
    assert props["tp"]["minimum"] == 1 and props["tp"]["maximum"] == limits.MAX_PARALLEL_DEGREE
    with pytest.raises(ValueError):
        train(model="llama3-8b", system="dgx-h100", gpus=8, seq_len=4096, global_batch=8, tp=0)
    assert typing.get_args(train.model_fields["recompute"].annotation) == ("none", "selective", "full", "auto")


def test_an_inherited_field_is_described_per_command() -> None:
    """serve's system may be an accelerator preset; describing it there leaves train's (and the base's) alone."""
    from infraplan.web.request_fields import ModelOnSystemRequest

    assert "accelerator preset" in (REQUESTS["serve"].model_fields["system"].description or "")
    # hX52: both take an uploaded system YAML too (`CatalogRef`), and say so
    assert REQUESTS["train"].model_fields["system"].description == "system preset or an uploaded system YAML"
    assert ModelOnSystemRequest.model_fields["system"].description == "system preset or an uploaded system YAML"


def test_a_description_inside_an_optional_type_reaches_the_field() -> None:
    """failed_links' words sat inside `Annotated[...] | None`, where pydantic leaves them off the property."""
    props = REQUESTS["collective"].model_json_schema()["properties"]
    assert "TIER:COUNT" in props["failed_links"]["description"]
