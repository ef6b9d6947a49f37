"""Capacity search: the answer meets the SLOs, one replica fewer does not, infeasible cases say why."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.serving_loader import load_workload
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.serving.capacity import search_capacity
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.serving_sim import simulate_deployment
from infraplan.serving.workloads import workload_requests


def _p99_meets(result, ttft, tpot):
    return result["ttft_s"]["p99"] <= ttft and result["tpot_s"]["p99"] <= tpot


def test_search_answer_is_minimal_for_its_deployment_shape():
    plan = search_capacity("llama3-8b", "dgx-h100-superpod", 30.0, workload="chat", ttft_slo=1.0, tpot_slo=0.04,
                           requests=400, disaggregation=False, dtypes=("fp8",), batch_caps=(128,))
    assert plan.feasible and plan.meets_slo_full_run
    d = plan.deployment
    assert d.replicas * d.tp * d.pp == plan.gpus
    if d.replicas > 1:
        fewer = Deployment(tp=d.tp, pp=d.pp, replicas=d.replicas - 1, dtype="fp8", kv_dtype="fp8",
                           max_batch=128, token_budget=8192)
        requests = workload_requests(load_workload("chat"), 300 * d.replicas, 30.0, seed=0)
        r = simulate_deployment(load_model("llama3-8b"), Cluster.resolve("dgx-h100-superpod"), fewer, requests)
        assert not _p99_meets(r, 1.0, 0.04)


def test_more_traffic_or_tighter_slo_never_needs_fewer_gpus():
    kw = {"workload": "chat", "requests": 300, "dtypes": ("fp8",), "batch_caps": (128,)}
    base = search_capacity("llama3-8b", "dgx-h100-superpod", 10.0, ttft_slo=1.0, tpot_slo=0.05, **kw)
    busier = search_capacity("llama3-8b", "dgx-h100-superpod", 30.0, ttft_slo=1.0, tpot_slo=0.05, **kw)
    assert busier.gpus >= base.gpus


def test_a_big_model_needs_tensor_parallelism_and_fp8_saves_gpus():
    kw = {"input_len": 1000, "output_len": 200, "ttft_slo": 2.0, "tpot_slo": 0.1, "requests": 300,
          "disaggregation": False}
    bf16 = search_capacity("llama3-70b", "dgx-h100-superpod", 5.0, dtypes=("bf16",), **kw)
    plan = search_capacity("llama3-70b", "dgx-h100-superpod", 5.0, **kw)
    assert bf16.deployment.tp >= 2  # 141 GB of bf16 weights cannot sit on one 80 GB GPU
    assert plan.deployment.dtype == "fp8" and plan.gpus < bf16.gpus


def test_infeasible_within_the_limit_says_why():
    plan = search_capacity("llama3-70b", "dgx-h100-superpod", 50.0, workload="chat", max_gpus=2, requests=200)
    assert plan.feasible is False and plan.why


@pytest.mark.parametrize("kwargs, message", [
    ({"rate": 0, "workload": "chat"}, "--rate"),
    ({"rate": 1}, "--workload"),
    ({"rate": 1, "workload": "image-generation"}, "diffusion"),
    ({"rate": 1, "input_len": 10, "output_len": 10}, "--ttft-slo"),
    ({"rate": 1, "workload": "chat", "dtypes": ("fp6",)}, "unknown dtype"),
])
def test_bad_search_input(kwargs, message):
    rate = kwargs.pop("rate")
    with pytest.raises(InputError, match=message):
        search_capacity("llama3-8b", "dgx-h100-superpod", rate, **kwargs)


def test_probes_count_the_front_end_time_the_report_includes(tmp_path):
    # the search sizes for the TTFT the report gives, front-end time included (TensorRT-LLM's 0.080 s takes 40 %
    # of a 0.2 s budget); the same stack without it needs fewer GPUs (at 0.25 s both fit one TP1 PP4 replica, its
    # p99 TTFT 0.170 + 0.080 s, since every PP level is searched, hN45)
    from importlib.resources import files

    shipped = (files("infraplan.catalog") / "stacks" / "trtllm-0.x.yaml").read_text()
    assert "request_latency_s: 0.080" in shipped
    no_front_end = tmp_path / "trtllm-no-front-end.yaml"
    no_front_end.write_text(shipped.replace("request_latency_s: 0.080", "request_latency_s: 0.0"))
    kw = dict(input_len=4096, output_len=64, ttft_slo=0.2, tpot_slo=0.05, requests=300, disaggregation=False,
              dtypes=("fp8",), batch_caps=(64,))
    with_it = search_capacity("llama3-8b", "dgx-h100-superpod", 40.0, stack="trtllm-0.x", **kw)
    without = search_capacity("llama3-8b", "dgx-h100-superpod", 40.0, stack=str(no_front_end), **kw)
    assert with_it.feasible and without.feasible and with_it.meets_slo_full_run
    # since hQ63 (a met run confirmed on seeds 1 and 2) the stack without it answers 5 GPUs too (4 before, judged
    # on seed 0 alone); the front end shows in the requests over the TTFT SLO the three seeds' runs count: 22 / 19 / 16
    # of 6,000 with it, none of 1,500 without
    assert with_it.gpus >= without.gpus
    over_with = sum(ttft for ttft, _ in with_it.full_run_over_slo_count or [])
    over_without = sum(ttft for ttft, _ in without.full_run_over_slo_count or [])
    assert over_with > over_without
