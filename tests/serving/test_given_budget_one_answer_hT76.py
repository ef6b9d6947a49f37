"""hT76: a given token budget below the batch cap has one answer in `serve` and `serve-plan`. TensorRT-LLM runs a
given max_num_tokens below max_batch_size by capping the iteration at budget // (1 + drafts) sequences
(`raised_budget.iteration_batch`, hS76's rule at its default); base: `serve` refused `--token-budget 1024
--max-batch 2048` and `serve-plan` (`search_capacity(token_budget=1024)`) raised the budget to the cap, 2,048 of
both. vLLM refuses to start below the cap: `serve-plan` now refuses in `serve`'s words (base: ran it at the cap)."""

from __future__ import annotations

import shlex

import pytest
from tests.cli.conftest import cli_json

import infraplan.serving.capacity as capacity
from infraplan.errors import InputError
from infraplan.serving.engines import load_engine
from infraplan.serving.raised_budget import iteration_batch, raised_budget_note, run_deployment
from infraplan.serving.serving_api import estimate_serving

ASK = {"stack": "trtllm-0.x", "speculative_tokens": 3, "acceptance": 0.7, "input_len": 256, "output_len": 64}


class _Seen(Exception):
    """The first candidate `serve-plan` builds, raised out of the search (nothing after it runs)."""


def _first_candidate(monkeypatch: pytest.MonkeyPatch, cap: int, budget: int, **ask: object) -> capacity.Deployment:
    def seen(shape: object, acc: object, fabric: object, dep: capacity.Deployment, sample: object) -> None:
        raise _Seen(dep)

    monkeypatch.setattr(capacity, "candidate_for", seen)
    with pytest.raises(_Seen) as caught:
        capacity.search_capacity("llama3-8b", "dgx-h100-superpod", 50.0, ttft_slo=2.0, tpot_slo=0.05, dtypes=("fp8",),
                                 batch_caps=(cap,), token_budget=budget, **{**ASK, **ask})  # type: ignore[arg-type]
    return caught.value.args[0]


@pytest.mark.parametrize(("cap", "budget", "runs"), [(2048, 4096, 4096 // 4), (1024, 4096, 1024),
                                                      (2048, 1000, 1000 // 4)])
def test_trtllm_given_budget_runs_the_batch_serve_runs(monkeypatch: pytest.MonkeyPatch, cap: int, budget: int,
                                                       runs: int) -> None:
    planned = _first_candidate(monkeypatch, cap, budget)
    served = estimate_serving("llama3-8b", "dgx-h100-superpod", 1, max_batch=cap, token_budget=budget, offline=True,
                              requests=20, dtype="fp8", **ASK)
    assert (planned.max_batch, planned.token_budget) == (runs, budget)
    assert (served.deployment.max_batch, served.deployment.token_budget) == (runs, budget)
    said = [w for w in served.warnings if w.startswith(f"--token-budget {budget:,} holds")]
    assert len(said) == (runs < cap)
    if said:
        assert f"so {runs:,} sequences run an iteration" in said[0] and "(1 + 3 draft tokens each)" in said[0]


def test_the_capped_run_is_the_run_of_its_batch() -> None:
    """--max-batch 2048 --token-budget 1024 (no drafts) prices as --max-batch 1024 --token-budget 1024 to the bit."""
    kw = {"stack": "trtllm-0.x", "input_len": 64, "output_len": 16, "offline": True, "requests": 3000, "dtype": "fp8",
          "kv_dtype": "fp8", "tp": "1", "seed": 3}
    capped = estimate_serving("llama3-8b", "dgx-h100-superpod", 1, max_batch=2048, token_budget=1024, **kw)
    fitted = estimate_serving("llama3-8b", "dgx-h100-superpod", 1, max_batch=1024, token_budget=1024, **kw)
    assert capped.output_tokens_per_s == fitted.output_tokens_per_s
    assert capped.iterations == fitted.iterations


def test_vllm_given_budget_below_the_cap_refused_in_serves_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """(vLLM's batch limit is 1,024: the cap 512 is searched as given.)"""
    words = "--token-budget 256 must be >= --max-batch 512"
    with pytest.raises(InputError, match=words):
        estimate_serving("llama3-8b", "dgx-h100-superpod", 1, max_batch=512, token_budget=256, offline=True,
                         requests=20, dtype="fp8", stack="vllm-0.x", input_len=64, output_len=16)
    with pytest.raises(InputError, match=words):
        _first_candidate(monkeypatch, 512, 256, stack="vllm-0.x", speculative_tokens=0, acceptance=None)
    assert _first_candidate(monkeypatch, 256, 256, stack="vllm-0.x", speculative_tokens=0,
                            acceptance=None).token_budget == 256


def test_rule_by_engine() -> None:
    hbm = 80 * 2**30
    assert iteration_batch("trtllm", 2048, 1024, 1024) == 1024
    assert iteration_batch("trtllm", 2048, 4096, 4096, 1) == 2048
    assert iteration_batch("trtllm", 2048, 4095, 4095, 1) == 2047
    assert run_deployment(load_engine("trtllm-0.x"), 1024, hbm, 1, 2048) == (1024, 1024)
    sglang = load_engine("sglang-0.x")
    assert run_deployment(sglang, 1024, hbm, 1, 2048) == (2048, 1024)  # SGLang's chunk caps a prefill alone
    assert raised_budget_note("trtllm", "trtllm-0.x", 8192, 1024, 1024) is None
    assert raised_budget_note("vllm", "vllm-0.x", 8192, 2048, 4096) is None


def test_serve_plan_answer_reruns_in_serve(capsys: pytest.CaptureFixture[str]) -> None:
    """serve-plan at a given max_num_tokens of 1,000 below the cap 2,048 (3 drafts: 250 sequences an iteration): its
    `serve_command` gives its figures in `serve`, and so does `serve` at the cap and budget asked (base: priced at
    2,048 of both, which `serve` refuses at a budget of 1,000)."""
    plan = capacity.search_capacity("llama3-8b", "dgx-h100-superpod", 5.0, ttft_slo=2.0, tpot_slo=0.05,
                                    dtypes=("fp8",), batch_caps=(2048,), token_budget=1000, requests=200,
                                    disaggregation=False, **ASK)  # type: ignore[arg-type]
    assert plan.deployment is not None and plan.serve is not None and plan.serve_command
    assert (plan.deployment.max_batch, plan.deployment.token_budget) == (250, 1000)
    line = shlex.split(plan.serve_command)[1:]
    at_cap = [*line[:line.index("--max-batch") + 1], "2048", *line[line.index("--max-batch") + 2:]]
    for args in (line, at_cap):
        served = cli_json(capsys, [*args, "--json"])
        assert (served["deployment"]["max_batch"], served["deployment"]["token_budget"]) == (250, 1000)
        assert served["output_tokens_per_s"] == pytest.approx(plan.serve.output_tokens_per_s, rel=1e-12)
        assert served["ttft_s"]["p99"] == pytest.approx(plan.serve.ttft_s.p99, rel=1e-12)
