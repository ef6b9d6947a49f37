"""Metamorphic properties of `infraplan serve-plan` (hX2, session 38): the fewest accelerators meeting an SLO at a
rate respond to the SLO and the rate as a capacity does (hypothesis, derandomized, bounded).

A tighter SLO admits a subset of the deployments a looser one admits, and more requests per second load every
deployment more: neither can be met with fewer accelerators. The chosen layout's `serve_command` is the `serve` run
that the answer's row summarises.
"""

from __future__ import annotations

import json
import shlex

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infraplan.catalog import load_accelerator
from infraplan.cli.main import main as cli_main
from infraplan.serving.capacity import search_capacity
from infraplan.serving.results import ServingPlanResult

SETTINGS = settings(max_examples=5, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
REQUESTS = 400  # probe size: small, the steady-state judge keeps the answer off it (serving/capacity_candidate.py)

CASES = [  # (model, system, input tokens, output tokens)
    ("llama3-8b", "hgx-h200", 1000, 200),
    ("qwen3-32b", "hgx-h200", 2000, 300),
    ("mixtral-8x7b", "dgx-h100-superpod", 1000, 500),
]


def _plan(case: tuple[str, str, int, int], rate: float, ttft: float, tpot: float) -> ServingPlanResult:
    model, system, isl, osl = case
    return search_capacity(model, system, rate, input_len=isl, output_len=osl, ttft_slo=ttft, tpot_slo=tpot,
                           dtypes=("fp8",), requests=REQUESTS, max_gpus=64)


def _gpus(plan: ServingPlanResult) -> float:
    """The accelerators of the answer; none within the limit counts as more than any."""
    return float(plan.gpus) if plan.feasible and plan.gpus is not None else float("inf")


@SETTINGS
@given(st.sampled_from(CASES), st.sampled_from([6.0, 20.0]), st.sampled_from([(2.0, 0.05), (1.0, 0.03)]),
       st.sampled_from([(0.5, 1.0), (1.0, 0.4), (0.5, 0.5)]))
def test_a_tighter_slo_never_needs_fewer_accelerators(case, rate, slo, tighten) -> None:
    (ttft, tpot), (ttft_factor, tpot_factor) = slo, tighten
    loose = _plan(case, rate, ttft, tpot)
    tight = _plan(case, rate, ttft * ttft_factor, tpot * tpot_factor)
    assert _gpus(tight) >= _gpus(loose)


@SETTINGS
@given(st.sampled_from(CASES), st.sampled_from([2.0, 6.0, 20.0]), st.sampled_from([2.0, 3.0]))
def test_more_demand_never_needs_fewer_accelerators(case, rate, factor) -> None:
    low = _plan(case, rate, 1.0, 0.04)
    high = _plan(case, rate * factor, 1.0, 0.04)
    assert _gpus(high) >= _gpus(low)


def test_the_chosen_layouts_serve_command_reproduces_its_row(capsys: pytest.CaptureFixture[str]) -> None:
    plan = _plan(CASES[1], 12.0, 1.0, 0.04)
    assert plan.feasible and plan.serve_command and plan.serve is not None and plan.deployment is not None
    args = shlex.split(plan.serve_command)
    assert args[0] == "infraplan"
    capsys.readouterr()
    assert cli_main([*args[1:], "--json"]) == 0
    served = json.loads(capsys.readouterr().out)
    assert served["deployment"]["gpus"] == plan.gpus
    for field in ("tp", "pp", "ep", "replicas", "max_batch", "dtype", "kv_dtype"):
        assert served["deployment"][field] == getattr(plan.deployment, field), field
    assert served["output_tokens_per_s"] == plan.serve.output_tokens_per_s
    assert served["ttft_s"] == plan.serve.ttft_s.model_dump()
    assert served["tpot_s"] == plan.serve.tpot_s.model_dump()
    assert served["slo_attainment"] == plan.serve.slo_attainment


@SETTINGS
@given(st.sampled_from(CASES[:2]), st.sampled_from([6.0, 20.0]), st.sampled_from([1.25, 2.0]),
       st.sampled_from(["memory_bandwidth_bytes_per_s", "peak_flops_per_s"]))
def test_a_faster_part_never_needs_more_accelerators(tmp_path_factory, case, rate, factor, field) -> None:
    """The same part with more HBM bandwidth or FLOP/s (a what-if file, `extends: h200`) runs every candidate
    deployment at least as fast, so the fewest that meet the SLO are no more (an unchanged copy is the baseline)."""
    tmp = tmp_path_factory.mktemp("whatif")
    acc = load_accelerator("h200")
    same, faster = tmp / "same.yaml", tmp / "faster.yaml"
    same.write_text("extends: h200\n")
    if field == "memory_bandwidth_bytes_per_s":
        bandwidth = acc.memory_bandwidth_bytes_per_s * factor
        faster.write_text(f"extends: h200\nmemory_bandwidth_bytes_per_s: {bandwidth!r}\n")
    else:
        peaks = "".join(f"  {d}: {p * factor!r}\n" for d, p in acc.peak_flops_per_s.items())
        faster.write_text(f"extends: h200\npeak_flops_per_s:\n{peaks}")
    model, _, isl, osl = case
    base = _plan((model, str(same), isl, osl), rate, 1.0, 0.04)
    fast = _plan((model, str(faster), isl, osl), rate, 1.0, 0.04)
    assert _gpus(fast) <= _gpus(base)


@SETTINGS
@given(st.sampled_from(CASES[1:]), st.sampled_from([20.0, 60.0]), st.sampled_from([(50.0, 90.0), (90.0, 99.0)]))
def test_a_higher_slo_percentile_never_needs_fewer_accelerators_and_alternatives_are_no_smaller(case, rate,
                                                                                             pcts) -> None:
    """The p99 of a run is at least its p90 and p50: an SLO at a higher percentile is a tighter one. The search's
    alternatives are the next-best deployments, none with fewer accelerators than the answer."""
    model, system, isl, osl = case
    low, high = (search_capacity(model, system, rate, input_len=isl, output_len=osl, ttft_slo=1.0, tpot_slo=0.04,
                                 dtypes=("fp8",), requests=REQUESTS, max_gpus=64, percentile=p) for p in pcts)
    assert _gpus(high) >= _gpus(low)
    for plan in (low, high):
        assert all(option.gpus >= _gpus(plan) for option in plan.alternatives or [])
