"""validation.sets.EXTRA_SETS names scorers that exist; a missing one is an error, not a silently dropped set."""

from __future__ import annotations

import importlib

import pytest

from infraplan.validation import sets


def test_every_extra_set_names_an_existing_scorer() -> None:
    assert sets.EXTRA_SETS
    for module, function in sets.EXTRA_SETS:
        assert callable(getattr(importlib.import_module(module), function, None)), (module, function)


def test_a_missing_scorer_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sets, "EXTRA_SETS", (("infraplan.validation.serving_hopper", "serving_set"),))
    with pytest.raises(LookupError, match="serving_set"):
        sets.extra_sets()
    monkeypatch.setattr(sets, "EXTRA_SETS", (("infraplan.validation.no_such_module", "scorer"),))
    with pytest.raises(ImportError):
        sets.extra_sets()
