"""The Dynamo TensorRT-LLM workers' per-sequence host figure against its rule
(`validation.serving_host_fits.fit_host_per_sequence`): measured figures only, no model run."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.validation import serving_host_fits as rule


def _serving_stacks() -> list[Path]:
    dirs = (resources.files("infraplan.catalog") / "stacks",
            resources.files("infraplan.validation") / "data" / "stacks")
    files = sorted(Path(str(d / name.name)) for d in dirs for name in d.iterdir() if name.name.endswith(".yaml"))
    return [f for f in files if load_stack(str(f)).kind == "serving"]


def test_tpot_per_decoding_sequence_is_littles_law_on_the_measured_row():
    # 128 clients, OSL 512, TPOT 10 ms, TTFT 2 s: D = 5.11 s, n = 128 D / (2 + D) = 92.0, TPOT / n = 108.7 us
    row = {"batch_size": "128", "osl": "512", "silicon_tpot_ms": "10", "silicon_ttft_ms": "2000"}
    assert rule.per_sequence_time_s(row) == pytest.approx(0.010 / (128 * 5.11 / 7.11))


def test_only_the_dynamo_worker_stacks_carry_the_figure_and_it_is_its_rule():
    fit = rule.fit_host_per_sequence()
    assert fit.rows >= 100 and fit.seconds < fit.median_s  # a floor: the tightest bound, below the typical row
    assert 80e-6 < fit.seconds < 130e-6  # the Llama-3.1-8B plateau's 108-116 us and the lowest rows
    carrying = {}
    for f in _serving_stacks():
        stack = load_stack(str(f))
        assert stack.serving is not None
        if stack.serving.host_per_sequence_s and not stack.serving.host_per_sequence_measured:  # measured: its own
            carrying[f.name] = stack.serving.host_per_sequence_s
    assert set(carrying) == set(rule.DYNAMO_WORKER_STACKS)
    stale = {name: (s, fit.seconds) for name, s in carrying.items() if not rule.within_rule(s, fit)}
    assert not stale, f"host_per_sequence_s off its rule (stored, rule): {stale}; refit (serving_host_fits)"
