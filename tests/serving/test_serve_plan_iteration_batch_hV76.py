"""hV76: `serve-plan` runs a TensorRT-LLM batch cap as `serve` does. hS76 capped the sequences one iteration runs at
the default max_num_tokens // (1 + drafts) (`raised_budget.iteration_batch`) in `serve` only; `serve-plan` still
priced every candidate and its whole run at the cap with the budget raised to it, so its answer's `serve_command`
ran another deployment (llama3-8b fp8 on one H100, cap 2,048 with 4 drafts: 8,192 // 5 = 1,638 sequences an
iteration in `serve`, 2,048 in `serve-plan`; TPOT p50 62.7 ms against 78.8 ms offline)."""

from __future__ import annotations

import pytest

import infraplan.serving.capacity as capacity
from infraplan.serving.engines import load_engine
from infraplan.serving.raised_budget import run_deployment
from infraplan.serving.serving_api import estimate_serving

ASK = {"stack": "trtllm-0.x", "speculative_tokens": 4, "acceptance": 0.7, "input_len": 256, "output_len": 64}


class _Seen(Exception):
    """The first candidate `serve-plan` builds, raised out of the search (nothing after it runs)."""


def _first_candidate(monkeypatch: pytest.MonkeyPatch, cap: int) -> capacity.Deployment:
    def seen(shape: object, acc: object, fabric: object, dep: capacity.Deployment, sample: object) -> None:
        raise _Seen(dep)

    monkeypatch.setattr(capacity, "candidate_for", seen)
    with pytest.raises(_Seen) as caught:
        capacity.search_capacity("llama3-8b", "dgx-h100-superpod", 50.0, ttft_slo=2.0, tpot_slo=0.05, dtypes=("fp8",),
                                 batch_caps=(cap,), **ASK)
    return caught.value.args[0]


@pytest.mark.parametrize(("cap", "runs"), [(2048, 8192 // 5), (1024, 1024)])
def test_serve_plan_runs_the_batch_serve_runs(monkeypatch: pytest.MonkeyPatch, cap: int, runs: int) -> None:
    planned = _first_candidate(monkeypatch, cap)
    served = estimate_serving("llama3-8b", "dgx-h100-superpod", 1, max_batch=cap, offline=True, requests=20,
                              dtype="fp8", **ASK).deployment
    assert (planned.max_batch, planned.token_budget) == (runs, 8192)
    assert (served.max_batch, served.token_budget) == (planned.max_batch, planned.token_budget)


def test_run_deployment_by_engine() -> None:
    """The one rule: TensorRT-LLM caps the iteration at its default, vLLM raises the budget to the cap, SGLang keeps
    its chunk; a given budget runs the cap (TensorRT-LLM's, at least the cap)."""
    hbm = 80 * 2**30
    assert run_deployment(load_engine("trtllm-0.x"), None, hbm, 1, 16_384) == (8192, 8192)
    assert run_deployment(load_engine("trtllm-0.x"), 16_384, hbm, 1, 16_384) == (16_384, 16_384)
    vllm = load_engine("vllm-0.x")
    assert run_deployment(vllm, None, hbm, 1, 4096) == (4096, max(4096, vllm.budget_on(hbm)))
    sglang = load_engine("sglang-0.x")
    assert run_deployment(sglang, None, hbm, 1, 16_384) == (16_384, sglang.budget_on(hbm))
