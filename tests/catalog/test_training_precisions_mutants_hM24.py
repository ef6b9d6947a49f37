"""Mutation wave hM24 (session 46) on catalog/training_precisions (hD50): what the file's schema refuses, and what
the look-ups answer for a dtype without an entry, checked against the YAML read as plain data."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from infraplan.catalog.training_precisions import TrainingPrecisions, precision_source, published_for

GOOD: dict[str, Any] = {"dtype": "fp8", "model_classes": ["dense"], "source": "a paper"}


def _raw() -> dict[str, Any]:
    text = (resources.files("infraplan.catalog") / "training_precisions.yaml").read_text()
    return {p["dtype"]: p for p in yaml.safe_load(text)["precisions"]}


def test_a_dtype_without_an_entry_has_no_published_recipe() -> None:
    """fp16 and int8 are no training precision of the file: published for neither class, no source."""
    raw = _raw()
    for dtype in ("fp16", "int8", "fp32"):
        assert dtype not in raw
        assert not published_for(dtype, "dense") and not published_for(dtype, "moe")
        assert precision_source(dtype) == ""


def test_each_entrys_source_is_the_files() -> None:
    for dtype, entry in _raw().items():
        assert precision_source(dtype) == entry["source"] != ""
    assert "arXiv:2509.25149" in precision_source("nvfp4")


@pytest.mark.parametrize("bad", [
    {**GOOD, "source": ""},  # every entry names where its recipes are published
    {**GOOD, "dtype": "fp16"},  # not a training precision (`--dtype`'s choices)
    {**GOOD, "model_classes": ["dense", "hybrid"]},  # classes: dense or moe only
    {k: v for k, v in GOOD.items() if k != "model_classes"},  # the classes are the entry's point: no default
])
def test_the_schema_refuses_a_bad_entry(bad: dict[str, Any]) -> None:
    assert TrainingPrecisions.model_validate({"precisions": [GOOD]}).precisions[0].dtype == "fp8"
    with pytest.raises(ValidationError):
        TrainingPrecisions.model_validate({"precisions": [bad]})
