"""A closed loop's first wave reaches the engine in client order (`serving.client_loop.first_wave`).

Every benchmark client read starts its N clients together but sends their requests one after another through one
event loop, and vLLM 0.18.0's idle engine core takes the first request and steps (v1/engine/core.py:1137-1165): the
first prompt runs alone, the others join at the next iteration. Before, all N reached the engine at t = 0 and the
first iteration prefilled all of them."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.serving import client_loop
from infraplan.serving.client_loop import first_wave
from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.serving_sim import front_end_s
from infraplan.validation import serving_hopper as sh
from infraplan.validation.serving_row_rules import server_front_end_s

# one H100, Llama 3 8B, vLLM's profile (no schedule-ahead lag), 1024-token prompts: 8 prompts fill the 8192-token
# iteration budget, so the old wave (all at t = 0) prefilled all 8 in the first iteration
_RUN = dict(tp=1, stack="vllm-0.x", input_len=1024, output_len=128)


def _serve(clients: int, requests: int, gpus: int = 1, **kw: object):  # type: ignore[no-untyped-def]
    return estimate_serving("llama3-8b", "h100-sxm", gpus, concurrency=clients, requests=requests, **_RUN, **kw)


def test_the_wave_is_sent_in_client_order() -> None:
    d = client_loop.FIRST_WAVE_SPACING_S
    given = np.zeros(6)
    spaced = first_wave(given, 4)
    assert np.array_equal(spaced, [0.0, d, 2 * d, 3 * d, 0.0, 0.0])  # the later requests are the loop's to set
    assert not given.any()  # a new array
    # a client whose own arrival is later sends then; the ones after it queue behind it (one event loop)
    assert np.allclose(first_wave(np.array([0.0, 1.0, 0.0]), 3, 1e-3), [0.0, 1.0, 1.001])
    assert np.array_equal(first_wave(given, 4, 0.0), given) and np.array_equal(first_wave(given, 1), given)
    with pytest.raises(ValueError, match="spacing"):
        first_wave(given, 4, -1e-6)


def test_a_closed_loops_first_step_holds_one_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    alone = _serve(1, 1).ttft_s.mean  # one prompt in an idle engine, the front end included
    wave = _serve(8, 8, ttft_slo=alone + 1e-9)
    assert wave.ttft_over_slo_count == 7  # request 0 runs alone in the first step: exactly the lone prompt's TTFT
    monkeypatch.setattr(client_loop, "FIRST_WAVE_SPACING_S", 0.0)
    together = _serve(8, 8, ttft_slo=alone + 1e-9)
    assert together.ttft_over_slo_count == 8  # all 8 at t = 0: the first step prefills all of them
    # the 7 others wait for the lone prompt's step, and the 8 prompts' step is shorter than the lone one plus 7
    assert wave.ttft_s.mean < together.ttft_s.mean


def test_a_disaggregated_closed_loops_first_prefill_holds_one_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pair's first token also waits for the decode worker's pickup iteration, which 4 decoding requests make a
    little longer than one: request 0's TTFT is the lone prompt's within 1 %; all 4 at t = 0 take ~2.6x it."""
    one = _serve(1, 1, gpus=2, prefill_gpus=1).ttft_s.mean
    wave = _serve(4, 4, gpus=2, prefill_gpus=1, ttft_slo=1.01 * one)
    assert wave.ttft_over_slo_count == 3
    monkeypatch.setattr(client_loop, "FIRST_WAVE_SPACING_S", 0.0)
    assert _serve(4, 4, gpus=2, prefill_gpus=1, ttft_slo=1.01 * one).ttft_over_slo_count == 4


@pytest.mark.parametrize("clients", [8, 64])
def test_the_answer_does_not_depend_on_the_spacing_within_its_range(monkeypatch: pytest.MonkeyPatch,
                                                                     clients: int) -> None:
    """The order moves the answer, not the gap: from 1 us to 0.3 ms per request (0.3 ms x 64 clients = 19 ms of
    wave) the means stay within 1 %; all at t = 0 moves the 8-client TTFT by 9 %."""
    runs = {}
    for d in (1e-6, 1e-5, 3e-4, 0.0):
        monkeypatch.setattr(client_loop, "FIRST_WAVE_SPACING_S", d)
        runs[d] = _serve(clients, 10 * clients)
    for d in (1e-6, 3e-4):
        assert runs[d].ttft_s.mean == pytest.approx(runs[1e-5].ttft_s.mean, rel=0.01)
        assert runs[d].tpot_s.mean == pytest.approx(runs[1e-5].tpot_s.mean, rel=0.01)
    if clients == 8:
        assert runs[0.0].ttft_s.mean > 1.05 * runs[1e-5].ttft_s.mean


@pytest.mark.parametrize("row_id", [
    "qwen_qwen3_32b_qwen_qwen3_32b_h100_sxm_vllm_agg_1024x128_c8_tp2_epnone_1",
    "qwen_qwen3_32b_qwen_qwen3_32b_h100_sxm_trtllm_agg_1024x128_c8_tp1_epnone_1",
])
def test_serve_concurrency_and_the_validation_runner_agree(monkeypatch: pytest.MonkeyPatch, row_id: str) -> None:
    """The runner is `serve --concurrency`'s path (no first wave of its own): a measured row and `serve` at the row's
    deployment, lengths and run length give the same means, with the first wave in order and without."""
    row = next(r for r in sh.load_rows() if r["id"] == row_id)
    assert sh.stop_per_token(row) == 0.0  # fixed lengths (the gap-analysis harness), as `serve --output-len`
    dep = sh.row_deployment(row)
    clients = int(row["batch_size"])

    def both() -> tuple[dict[str, float], dict[str, float]]:
        served = estimate_serving("qwen3-32b", sh.SYSTEMS[row["system"]], dep.tp, tp=dep.tp, dtype=dep.dtype,
                                  kv_dtype=dep.kv_dtype, input_len=int(row["isl"]), output_len=int(row["osl"]),
                                  requests=sh.REQUESTS_PER_CLIENT * clients, max_batch=dep.max_batch,
                                  token_budget=dep.token_budget, concurrency=clients, stack=dep.stack)
        # the row's serving path may have its own front end (`validation.serving_row_rules`): compare without it
        stack_s = front_end_s(dep)
        runner = sh.run_row(row)
        return ({"ttft_s": served.ttft_s.mean - stack_s, "tpot_s": served.tpot_s.mean},
                {"ttft_s": runner["ttft_s"] - server_front_end_s(row, stack_s), "tpot_s": runner["tpot_s"]})

    served, runner = both()
    assert served == pytest.approx(runner, rel=1e-9)
    monkeypatch.setattr(client_loop, "FIRST_WAVE_SPACING_S", 0.0)
    served0, runner0 = both()
    assert served0 == pytest.approx(runner0, rel=1e-9)
    assert runner0["ttft_s"] > 1.02 * runner["ttft_s"]  # the runner's answer moved with the product's first wave
