"""Where a disaggregated request's first token comes from: the decode worker, after the hand-off and its pick-up."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.serving import disaggregated
from infraplan.serving.disaggregated import DisaggregatedDeployment, decode_first_token_s, relay_s
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.serving_sim import front_end_s, simulate_disaggregated
from infraplan.serving.workloads import fixed_requests
from infraplan.validation import serving_hopper_disagg as disagg

H200 = Cluster.resolve("hgx-h200")
V3 = load_model("deepseek-v3")
PAIR = DisaggregatedDeployment(Deployment(tp=8, ep=8, max_batch=1, dtype="fp8", kv_dtype="fp8", stack="trtllm-0.x"),
                               Deployment(tp=1, ep=8, attention_dp=8, max_batch=16, dtype="fp8", kv_dtype="fp8",
                                          stack="trtllm-0.x"))


def test_the_first_token_leaves_the_decode_worker_one_and_a_half_iterations_after_the_kv() -> None:
    prefill_first = np.array([1.0, 1.0, 1.0])
    kv_arrival = np.array([1.1, 1.1, 1.1])
    finish = np.array([11.1, 11.1, 1.1])
    steps = np.array([100, 100, 0])
    out = np.array([101, 101, 1])
    first = decode_first_token_s(prefill_first, kv_arrival, finish, steps, out)
    # 10 s over 100 steps: 0.1 s a step; the wait for the boundary (half) plus the emitting step
    assert first[:2] == pytest.approx([1.1 + 0.15, 1.1 + 0.15])
    assert first[2] == 1.0  # a one-token output has no decode step: the prefill's token


def test_the_decode_side_first_token_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disaggregated, "DECODE_SIDE_FIRST_TOKEN", False)
    prefill_first = np.array([1.0])
    assert decode_first_token_s(prefill_first, np.array([1.1]), np.array([11.1]), np.array([100]),
                                np.array([101]))[0] == 1.0


def test_a_prefill_first_router_adds_one_front_end_per_extra_pass() -> None:
    assert relay_s(0.12, 1) == 0.0
    assert relay_s(0.12, 2) == pytest.approx(0.12)
    with pytest.raises(InputError, match="at least 1"):
        relay_s(0.12, 0)


@pytest.mark.parametrize("clients", [0, 1])  # open loop and one client in closed loop
def test_a_second_front_end_pass_delays_the_decode_worker_and_the_first_token(clients: int) -> None:
    req = fixed_requests(4, 2048, 64, 0.1 if clients == 0 else None, 0)
    one = simulate_disaggregated(V3, H200, PAIR, req, clients=clients)
    two = simulate_disaggregated(V3, H200, PAIR, req, clients=clients, serial_front_ends=2)
    front = front_end_s(PAIR.decode)
    # unloaded (one client; arrivals 10 s apart): the decode worker's arrival moves by the second pass, the rest
    # of the request as it was
    assert two["ttft_s"]["mean"] - one["ttft_s"]["mean"] == pytest.approx(front, rel=1e-6)
    assert two["e2e_s"]["mean"] - one["e2e_s"]["mean"] == pytest.approx(front, rel=1e-6)
    assert two["kv_transfer_s"]["mean"] == one["kv_transfer_s"]["mean"]  # the KV moves as fast
    assert two["tpot_s"]["mean"] == pytest.approx(one["tpot_s"]["mean"], rel=1e-9)


def test_the_first_token_waits_for_the_kv_and_a_decode_iteration(monkeypatch: pytest.MonkeyPatch) -> None:
    req = fixed_requests(4, 2048, 64, None, 0)
    decode_side = simulate_disaggregated(V3, H200, PAIR, req, clients=1)
    monkeypatch.setattr(disaggregated, "DECODE_SIDE_FIRST_TOKEN", False)
    prefill_side = simulate_disaggregated(V3, H200, PAIR, req, clients=1)
    later = decode_side["ttft_s"]["mean"] - prefill_side["ttft_s"]["mean"]
    step = decode_side["tpot_s"]["mean"]  # ~ one decode iteration of the lone sequence
    assert later > decode_side["kv_transfer_s"]["mean"] + step
    pickup = disaggregated.decode_pickup_iterations(PAIR.decode)  # 2.5: TensorRT-LLM schedules one iteration ahead
    # one client: the idle decode engine admits the request as its KV arrives, no wait for an iteration boundary
    # (the engine's own admission, `ADMISSION_FIRST_TOKEN`; the mean-iteration rule counted half an iteration)
    wait = disaggregated.BOUNDARY_WAIT_ITERATIONS
    assert later == pytest.approx(decode_side["kv_transfer_s"]["mean"] + (pickup - wait) * step, rel=0.05)
    assert decode_side["e2e_s"]["mean"] == prefill_side["e2e_s"]["mean"]  # the last token is where it was
    monkeypatch.setattr(disaggregated, "DECODE_SIDE_FIRST_TOKEN", True)
    monkeypatch.setattr(disaggregated, "ADMISSION_FIRST_TOKEN", False)
    mean_rule = simulate_disaggregated(V3, H200, PAIR, req, clients=1)
    assert mean_rule["ttft_s"]["mean"] - decode_side["ttft_s"]["mean"] == pytest.approx(wait * step, rel=0.05)


def test_an_overlap_scheduler_picks_the_request_up_one_iteration_later(monkeypatch: pytest.MonkeyPatch) -> None:
    """TensorRT-LLM's decode workers schedule the next batch before the current one's outputs: a request whose KV
    has arrived runs one iteration later than under SGLang's prebuilt step (`decode_pickup_iterations`)."""
    sglang = Deployment(tp=1, ep=8, attention_dp=8, max_batch=16, dtype="fp8", kv_dtype="fp8", engine="sglang",
                        stack="sglang-0.x")
    assert disaggregated.decode_pickup_iterations(PAIR.decode) == 2.5
    assert disaggregated.decode_pickup_iterations(sglang) == 1.5
    req = fixed_requests(4, 2048, 64, None, 0)
    ahead = simulate_disaggregated(V3, H200, PAIR, req, clients=1)
    monkeypatch.setattr(disaggregated, "OVERLAP_PICKUP", False)
    assert disaggregated.decode_pickup_iterations(PAIR.decode) == 1.5
    not_ahead = simulate_disaggregated(V3, H200, PAIR, req, clients=1)
    mean_step = (ahead["e2e_s"]["mean"] - ahead["ttft_s"]["mean"]) / (63 - 1.0)  # 63 steps, 1 more before the token
    assert ahead["ttft_s"]["mean"] - not_ahead["ttft_s"]["mean"] == pytest.approx(mean_step, rel=0.05)
    assert ahead["e2e_s"]["mean"] == not_ahead["e2e_s"]["mean"]  # the last token is where it was


def test_the_hopper_rows_pass_dynamos_front_end_twice_and_sglangs_router_once() -> None:
    hops = {(r["backend"], disagg.serial_front_ends(r)) for r in disagg.load_rows() if disagg.why_not(r) is None}
    # the TensorRT-LLM rows ran in ai-dynamo images (prefill first), the SGLang rows in SGLang's own
    assert hops == {("trtllm", 2), ("sglang", 1)}
    qwen_sglang = next(r for r in disagg.load_rows() if r["backend"] == "sglang" and "ai-dynamo" in
                       r["silicon_data_source"])
    assert disagg.serial_front_ends(qwen_sglang) == 1  # Dynamo's SGLang decode worker bootstraps beside the prefill


@pytest.mark.parametrize("admission", [True, False])
def test_a_wait_for_a_decode_slot_delays_the_first_token(monkeypatch: pytest.MonkeyPatch, admission: bool) -> None:
    """Two prompts ready at once for one decode slot: the second waits for the first's whole decode. Counted from
    the decode engine's admission (`ADMISSION_FIRST_TOKEN`) the wait is all in its TTFT and both TPOTs are equal;
    the mean-iteration rule spread it over the request's steps (mostly TPOT)."""
    monkeypatch.setattr(disaggregated, "ADMISSION_FIRST_TOKEN", admission)
    one_slot = DisaggregatedDeployment(replace(PAIR.prefill, replicas=2),
                                       replace(PAIR.decode, tp=8, attention_dp=1, max_batch=1))
    r = simulate_disaggregated(V3, H200, one_slot, fixed_requests(2, 2048, 64, None, 0), clients=2)
    decode_s = r["e2e_s"]["mean"] - r["ttft_s"]["mean"]  # first to last token, the same for both
    gap_s = (r["ttft_s"]["p99"] - r["ttft_s"]["p50"]) / 0.49  # of two values: p99 - p50 = 0.49 (max - min)
    if admission:
        assert r["tpot_s"]["p99"] == pytest.approx(r["tpot_s"]["p50"], rel=1e-9)
        assert gap_s == pytest.approx(decode_s, rel=0.05)  # the second waits out the first's decode
    else:
        assert r["tpot_s"]["p99"] > 1.2 * r["tpot_s"]["p50"]
