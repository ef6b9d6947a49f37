"""A closed loop whose reported latencies break Little's law says so (serve_inputs.littles_law_note)."""

from __future__ import annotations

import re

import pytest

from infraplan.serving.serving_api import estimate_serving as serve

KW = dict(gpus=1, concurrency=8, input_len=512, output_len=256, requests=400)


def _ratio(result: object) -> float:
    return result.requests_per_s * result.e2e_s.mean / 8  # type: ignore[attr-defined]


def test_sglang_closed_loop_names_the_front_end_outside_the_cycle() -> None:
    result = serve("llama3-8b", "dgx-h100-superpod", stack="sglang-0.x", **KW)  # type: ignore[arg-type]
    notes = [w for w in result.warnings if "Little's law" in w]
    assert len(notes) == 1 and _ratio(result) > 1.02
    shown = float(re.search(r"clients = ([0-9.]+)", notes[0]).group(1))  # type: ignore[union-attr]
    assert shown == pytest.approx(_ratio(result), abs=0.005)
    assert f"({1e3 * result.deployment.front_end_s:.0f} ms)" in notes[0]  # type: ignore[union-attr]


def test_a_loop_that_keeps_littles_law_carries_no_note() -> None:
    result = serve("llama3-8b", "dgx-h100-superpod", stack="vllm-0.x", **KW)  # type: ignore[arg-type]
    assert abs(_ratio(result) - 1.0) <= 0.02
    assert not [w for w in result.warnings if "Little's law" in w]
