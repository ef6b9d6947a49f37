"""Disaggregated prefill/decode pools with their own layouts, the KV hand-off between them, closed loops over them."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.serving.client_loop import CLIENT_ROUND_TRIP_S
from infraplan.serving.disaggregated import (
    DisaggregatedDeployment,
    PrefillLayout,
    decode_pickup_iterations,
    kv_transfer_bytes_per_link,
    pool_costs,
    split_pools,
)
from infraplan.serving.kv_cache import kv_bytes_per_token_model
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, prefill_time
from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.serving_sim import front_end_s, simulate_disaggregated
from infraplan.serving.workloads import fixed_requests

H200 = Cluster.resolve("hgx-h200")
V3 = load_model("deepseek-v3")
LLAMA = load_model("llama3-8b")
FP8 = {"dtype": "fp8", "kv_dtype": "fp8"}


def _pair(prefill: Deployment, decode: Deployment) -> DisaggregatedDeployment:
    return DisaggregatedDeployment(prefill, decode)


def test_kv_transfer_is_priced_from_both_layouts() -> None:
    prompt = np.array([1000.0])
    dense_total = 1000 * kv_bytes_per_token_model(LLAMA, "fp8")
    same = kv_transfer_bytes_per_link(LLAMA, Deployment(tp=4, **FP8), Deployment(tp=4, **FP8), prompt, "fp8")
    assert same[0] == pytest.approx(dense_total / 4)  # equal layouts: each TP rank sends its own heads' shard
    narrow = kv_transfer_bytes_per_link(LLAMA, Deployment(tp=8, **FP8), Deployment(tp=2, **FP8), prompt, "fp8")
    assert narrow[0] == pytest.approx(dense_total / 2)  # a TP2 decode GPU receives half the KV heads
    latent = 1000 * kv_bytes_per_token_model(V3, "fp8")
    mla = kv_transfer_bytes_per_link(V3, Deployment(tp=8, ep=8, **FP8),
                                     Deployment(tp=1, ep=8, attention_dp=8, **FP8), prompt, "fp8")
    assert mla[0] == pytest.approx(latent)  # an attention-DP decode rank holds every layer's whole MLA latent
    mla_tp = kv_transfer_bytes_per_link(V3, Deployment(tp=1, ep=8, attention_dp=8, **FP8),
                                        Deployment(tp=8, ep=8, **FP8), prompt, "fp8")
    assert mla_tp[0] == pytest.approx(latent)  # and so does every TP rank of a TP8 decode worker


def test_one_client_sees_the_unloaded_prefill_and_waits_for_its_last_request() -> None:
    pair = _pair(Deployment(tp=8, ep=8, max_batch=1, **FP8, stack="trtllm-0.x"),
                 Deployment(tp=1, ep=8, attention_dp=8, max_batch=16, **FP8, stack="trtllm-0.x"))
    req = fixed_requests(6, 2048, 64, None, 0)
    r = simulate_disaggregated(V3, H200, pair, req, clients=1)
    pre_cost, _ = pool_costs(V3, H200.accelerator, H200.fabric, pair)
    front = front_end_s(pair.decode)
    prefill_s, transfer_s = float(prefill_time(pre_cost, 1, 2048)), r["kv_transfer_s"]["mean"]
    step_s = (r["e2e_s"]["mean"] - front - prefill_s - transfer_s) / 63  # its mean decode iteration, alone
    # the first token leaves the decode worker: 2.5 decode iterations after the KV under TensorRT-LLM's overlap
    # scheduler (`decode_pickup_iterations`, `decode_first_token_s`), of which the half iteration's wait for the
    # boundary is the engine's own (`ADMISSION_FIRST_TOKEN`): an idle decode engine admits the request at once
    assert decode_pickup_iterations(pair.decode) == 2.5
    assert r["ttft_s"]["mean"] == pytest.approx(prefill_s + transfer_s + 2.0 * step_s + front, rel=1e-9)
    assert r["ttft_s"]["p99"] == pytest.approx(r["ttft_s"]["p50"], rel=1e-9)
    # one client: the requests run back to back, each sent a round trip after the last one finished decoding
    assert r["duration_s"] == pytest.approx(6 * (r["e2e_s"]["mean"] - front) + front + 5 * CLIENT_ROUND_TRIP_S,
                                            rel=1e-9)


def test_many_clients_obey_littles_law_and_repeat_exactly() -> None:
    pair = _pair(Deployment(tp=8, ep=8, max_batch=1, **FP8), Deployment(tp=8, ep=8, replicas=2, max_batch=32, **FP8))
    req = fixed_requests(64 * 8, 1024, 256, None, 0)
    r = simulate_disaggregated(V3, H200, pair, req, clients=64)
    cycle_s = r["e2e_s"]["mean"] - r["deployment"]["front_end_s"]  # a client's time per request (engine side)
    assert r["requests_per_s"] * cycle_s == pytest.approx(64, rel=0.1)  # N = X R, less the ramp-down
    again = simulate_disaggregated(V3, H200, pair, req, clients=64)
    assert json.dumps(again, default=str) == json.dumps(r, default=str)  # deterministic event order
    d = r["deployment"]
    assert (d["prefill"]["tp"], d["decode"]["replicas"], d["gpus"]) == (8, 2, 24)
    assert d["kv_cache_tokens_per_replica"] == d["decode"]["kv_cache_tokens_per_replica"]


def test_a_wide_ep_prefill_worker_is_not_charged_the_colocated_lockstep_stall() -> None:
    wide = Deployment(tp=1, ep=8, attention_dp=8, max_batch=1, stack="sglang-0.x", **FP8)  # ranks that stall
    pair = _pair(wide, replace(wide, max_batch=16))
    pre, dec = pool_costs(V3, H200.accelerator, H200.fabric, pair)
    colocated = build_iteration_cost(V3, H200.accelerator, H200.fabric, wide)
    assert pre.pair_s == colocated.pair_flop_s < colocated.pair_s
    assert pre.per_prefill_token_s < colocated.per_prefill_token_s
    assert float(prefill_time(pre, 1, 1024)) < 0.5 * float(prefill_time(colocated, 1, 1024))
    assert dec.per_prefill_token_s == build_iteration_cost(V3, H200.accelerator, H200.fabric,
                                                           pair.decode).per_prefill_token_s


def test_split_pools_builds_the_prefill_layout_or_says_why_in_one_line() -> None:
    decode = Deployment(tp=1, ep=8, attention_dp=8, replicas=1, max_batch=16, **FP8)
    pair = split_pools(V3, H200.accelerator, decode, 8, PrefillLayout(tp=8, ep=8, max_batch=1))
    assert (pair.prefill.tp, pair.prefill.ep, pair.prefill.attention_dp, pair.prefill.replicas) == (8, 8, 1, 1)
    assert pair.gpus == 16 and pair.prefill.max_batch == 1 and pair.decode is decode
    wide = split_pools(V3, H200.accelerator, decode, 16, PrefillLayout(attention_dp=8))
    assert (wide.prefill.tp, wide.prefill.ep, wide.prefill.replicas) == (1, 8, 2)
    for gpus, layout, message in ((0, PrefillLayout(tp=8), "give its --prefill-gpus"),
                                  (4, PrefillLayout(tp=8), "not a multiple"),
                                  (8, PrefillLayout(tp=8, ep=3), "prefill pool: EP 3")):
        with pytest.raises(InputError, match=message):
            split_pools(V3, H200.accelerator, decode, gpus, layout)
    with pytest.raises(InputError, match="KV dtype"):
        DisaggregatedDeployment(replace(decode, kv_dtype="bf16"), decode).check()


def test_same_layout_disaggregation_still_prices_kv_over_tp() -> None:
    """`--prefill-gpus` alone: one layout for both pools, open loop, the transfer as before (dense, PP 1)."""
    r = estimate_serving("llama3-8b", "dgx-h100-superpod", 4, tp=1, dtype="fp8", rate=4, input_len=2000,
                         output_len=100, requests=200, prefill_gpus=1)
    d = r.deployment
    assert (d.prefill_replicas, d.decode_replicas, d.gpus) == (1, 3, 4)
    assert d.prefill is not None and d.prefill.tp == d.decode.tp == 1
    assert r.kv_transfer_s.p50 > 0
    closed = estimate_serving("llama3-8b", "dgx-h100-superpod", 4, tp=1, dtype="fp8", concurrency=12,
                              input_len=2000, output_len=100, requests=120, prefill_gpus=1)
    assert closed.concurrency == 12 and closed.requests == 120 and closed.kv_transfer_s.p50 > 0


def test_serve_cli_takes_a_decode_layout_distinct_from_the_prefill_one(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["serve", "deepseek-v3", "--system", "hgx-h200", "--gpus", "16", "--prefill-gpus", "8", "--prefill-tp",
            "8", "--prefill-ep", "8", "--prefill-max-batch", "1", "--tp", "1", "--attention-dp", "8", "--max-batch",
            "16", "--dtype", "fp8", "--concurrency", "32", "--input-len", "1024", "--output-len", "64",
            "--requests", "96"]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    d = out["deployment"]
    assert out["concurrency"] == 32 and d["disaggregated"] and d["gpus"] == 16
    assert (d["prefill"]["tp"], d["prefill"]["ep"], d["prefill"]["max_batch"]) == (8, 8, 1)
    assert (d["decode"]["tp"], d["decode"]["attention_dp"], d["decode"]["max_batch"]) == (1, 8, 16)
    assert out["kv_transfer_s"]["p50"] > 0
    assert main(args) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "prefill 1 × (TP8 PP1 EP8, batch ≤ 1) + decode 1 × (TP1 PP1 DP-attention8 EP8, batch ≤ 16)" in text
    for bad in (["--prefill-gpus", "0"], ["--prefill-gpus", "16"], ["--prefill-ep", "3"]):
        code = main([*args, *bad])
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1, err
