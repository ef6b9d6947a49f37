"""A `train` answer's band reads no stack file (hK71: benchmarks/error_band_lookup.py's 5 ms goal for it).

`error_bands._settings_pool` took the class of the answer's profile (`band_transfer.stack_class`) for every kind,
so the default training band loaded nemo-26.04's YAML through `load_stack` (1.3-1.8 ms of a fresh process's
2.5 ms lookup, 6.7 ms at load) though only a serving answer selects rows by that class (its re-runs on a shipped
profile). Now the class is asked for serving alone; the bands are unchanged (every one in
tests/catalog/test_band_cases_hX59.py and the validation bands' tests).
"""

from __future__ import annotations

import pytest

from infraplan.catalog import error_bands
from infraplan.catalog.stacks import DEFAULT_SERVING_STACK, DEFAULT_TRAINING_STACK


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    calls: list[str | None] = []
    original = error_bands.stack_class

    def recorded(stack: str | None) -> str:
        calls.append(stack)
        return original(stack)

    monkeypatch.setattr(error_bands, "stack_class", recorded)
    error_bands.stored_band_and_basis.cache_clear()
    yield calls
    error_bands.stored_band_and_basis.cache_clear()


def test_a_default_training_band_asks_no_stack_file(asked: list[str | None]) -> None:
    band, basis = error_bands.band_and_basis("h100-sxm", None, "training")
    assert band is not None and "re-run on the default stack" in basis
    assert DEFAULT_TRAINING_STACK not in asked  # was asked once, loading its file
    assert set(asked) <= {None}  # the answer's own class (None: megatron, no file read)


def test_a_serving_band_still_takes_its_profiles_reruns(asked: list[str | None]) -> None:
    for stack, named in ((None, DEFAULT_SERVING_STACK), ("vllm-0.x", "vllm-0.x")):
        band, basis = error_bands.band_and_basis("h100-sxm", stack, "serving")
        assert band is not None and f"re-run on the {'default' if stack is None else 'shipped'} serving stack " \
                                     f"{named}" in basis
        assert named in asked
