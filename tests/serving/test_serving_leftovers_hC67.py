"""Serving leftovers of session 66 (hC, session 67).

1. SGLang runs one attention call a layer over a mixed batch (`mix_with_running` -> ForwardMode.MIXED -> the
   backend's `forward_extend`, sglang 0.5.6 managers/schedule_batch.py:1507-1536, layers/attention/
   base_attn_backend.py:79-119): priced with `decode_kernels.ONE_EXTEND_CALL` on, its mixed iteration pays no decode
   attention op's fixed time (`mixed_shared_s`, in `IterationCost.shared_fixed_s`); TensorRT-LLM keeps both (vLLM:
   its own rule, hV2 67).
   Measured, not adopted (the SGLang front end's refit it forces moves every serving set up): off by default.
2. SGLang's short DSA path flattens the fp8 page table once a batch (nsa_backend.py:466-487): one launch in the
   path's once term (`sparse_decode.PAGE_TABLE_KERNELS`).
3. A prompt chunk in a speculative iteration verifies nothing (vLLM 0.12.0 `_calc_spec_decode_metadata`: one row);
   vLLM drafts for it (its K - 1 further steps, v1/spec_decode/eagle.py:405-411), SGLang's prefill batch runs only
   the draft's extend (speculative/eagle_worker.py:271-286) (`speculative.verified_row_s`).
4. The `Scheduler` Protocol declares what `schedule_prefill` leaves for the iteration's price.
5. A disaggregated TTFT miss that waited at the decode engine's admission is the decode pool's: counted by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.serving import decode_kernels, sparse_decode, speculative
from infraplan.serving.capacity_decode import mixed_step_s
from infraplan.serving.deployment import Deployment
from infraplan.serving.disaggregated import DisaggregatedDeployment
from infraplan.serving.llm_iteration import build_iteration_cost, decode_time, prefill_time
from infraplan.serving.replica_search import grown, ttft_miss_pools
from infraplan.serving.schedulers import SCHEDULERS, Scheduler
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.serving_sim import simulate_disaggregated
from infraplan.serving.workloads import Requests, fixed_requests

H200 = Cluster.resolve("hgx-h200")
LLAMA, R1, V32 = load_model("llama3.1-8b"), load_model("deepseek-r1"), load_model("deepseek-v3.2")
STACKS = {"sglang": "sglang-0.x", "vllm": "vllm-0.x", "trtllm": "trtllm-0.x"}


def _cost(model, engine: str, *, k: int = 0, tp: int = 1, kv: str = "bf16", dtype: str = "bf16", batch: int = 64):
    dep = Deployment(tp=tp, ep=tp if model.is_moe else 1, dtype=dtype, kv_dtype=kv, engine=engine,
                     stack=STACKS[engine], max_batch=batch, token_budget=8192, speculative_tokens=k,
                     acceptance=0.85 if k else 0.0)
    return build_iteration_cost(model, H200.accelerator, H200.fabric, dep)


def _toggled(monkeypatch: pytest.MonkeyPatch, module, name: str, value: object, build):
    with monkeypatch.context() as m:
        m.setattr(module, name, value)
        return build()


@pytest.mark.parametrize(("model", "tp", "dtype"), [(LLAMA, 1, "bf16"), (R1, 8, "fp8")])
def test_sglang_mixed_iteration_pays_the_decode_attention_op_once(monkeypatch: pytest.MonkeyPatch, model, tp: int,
                                                                  dtype: str) -> None:
    on = _toggled(monkeypatch, decode_kernels, "ONE_EXTEND_CALL", True,
                  lambda: _cost(model, "sglang", tp=tp, dtype=dtype))
    off = _cost(model, "sglang", tp=tp, dtype=dtype)  # the default: not adopted
    attn_s = decode_kernels.attention_terms(H200.accelerator, KernelRates.for_dtype(H200.accelerator, "bf16"),
                                            "sglang", "bf16", model, "sglang-0.x")[0]
    layers = model.num_layers
    assert on.shared_fixed_s - off.shared_fixed_s == pytest.approx(attn_s * layers, rel=1e-12)
    assert attn_s * layers > 300e-6  # Llama 3.1 8B: 32 layers x 3 launches x 4 us; R1: 61 x 8 us
    mixed = (4096, 8, 8 * 2000, 4096 * 4097 / 2.0)  # (past the eager host floor, `host_overhead`)
    assert float(off.time(*mixed) - on.time(*mixed)) == pytest.approx(attn_s * layers, rel=1e-9)
    for alone in ((256, 0, 0, 256 * 257 / 2.0), (0, 8, 8 * 2000, 0.0)):  # prefill only, decode only: unchanged
        assert float(on.time(*alone)) == float(off.time(*alone))


@pytest.mark.parametrize("engine", ["vllm", "trtllm"])
def test_other_engines_ignore_the_sglang_toggle(monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    on = _toggled(monkeypatch, decode_kernels, "ONE_EXTEND_CALL", True, lambda: _cost(LLAMA, engine))
    off = _cost(LLAMA, engine)
    assert on.shared_fixed_s == off.shared_fixed_s  # vLLM's own rule (hV2 67: one call on FLASH_ATTN), TRT-LLM's 0
    assert (off.shared_fixed_s > 0.0) == (engine == "vllm")


def test_sglang_mixed_chunk_loop_runs_faster_with_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    req = fixed_requests(40, 3000, 200, 8.0, 1)
    zeros = np.zeros_like(req.input_tokens)

    def run(cost):
        return simulate_engine(cost, req.arrival_s.astype(float), req.input_tokens, zeros, req.output_tokens - 1,
                               64, 2048, 100_000, 16, scheduler="sglang-adder")

    on = run(_toggled(monkeypatch, decode_kernels, "ONE_EXTEND_CALL", True, lambda: _cost(LLAMA, "sglang")))
    off = run(_cost(LLAMA, "sglang"))
    assert on.busy_s < off.busy_s  # each mixed iteration shorter
    assert on.first_token_s.mean() < off.first_token_s.mean() and on.finish_s.mean() < off.finish_s.mean()


def test_mixed_step_bound_holds_where_one_call_is_less_than_the_decode_op(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    cost = _toggled(monkeypatch, decode_kernels, "ONE_EXTEND_CALL", True, lambda: _cost(LLAMA, "sglang"))
    cheap = replace(cost, prefill_fixed_s=0.5 * cost.shared_fixed_s)  # a mixed iteration below a decode step's fixed
    bound = mixed_step_s(cheap, 16)
    for k in (1, 4, 16):
        assert bound[k - 1] <= float(cheap.time(1, k, 0, 1.0, rows=k + 1)) + 1e-15


@pytest.mark.parametrize("kv", ["fp8", "bf16"])
def test_short_path_fp8_page_table_is_one_launch_once(monkeypatch: pytest.MonkeyPatch, kv: str) -> None:
    on = _cost(V32, "sglang", tp=8, kv=kv, dtype="fp8")
    off = _toggled(monkeypatch, sparse_decode, "PAGE_TABLE_PRICED", False,
                   lambda: _cost(V32, "sglang", tp=8, kv=kv, dtype="fp8"))
    launch = KernelRates.for_dtype(H200.accelerator, "bf16").kernel_overhead_s
    assert on.short_prefill_len == off.short_prefill_len > 0
    extra = on.short_prefill_terms[2] - off.short_prefill_terms[2]
    assert extra == pytest.approx(launch if kv == "fp8" else 0.0, abs=1e-15)
    assert on.short_prefix_fixed_s == off.short_prefix_fixed_s  # the per-layer gathers: unchanged


def _plain_head(engine: str) -> np.ndarray:
    return _cost(LLAMA, engine, batch=8).head_s  # Llama: no per-row attention term, the LM head alone


@pytest.mark.parametrize("engine", ["vllm", "sglang"])
def test_a_prompt_row_verifies_nothing(monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    """K = 1: a prompt chunk's row is the target's LM-head row and the draft's sampled row on vLLM and SGLang (no
    further draft step at K = 1); a decode row still pays its verification and draft."""
    spec = _cost(LLAMA, engine, k=1, batch=8)
    old = _toggled(monkeypatch, speculative, "PROMPT_ROW_UNVERIFIED", False, lambda: _cost(LLAMA, engine, k=1, batch=8))
    plain = _plain_head(engine)
    for r in (1, 3, 8):
        assert spec.decode_row_s is not None
        assert spec.head_s[r] - spec.decode_row_s[r] == pytest.approx(2.0 * plain[r], rel=1e-12)
        assert spec.head_s[r] == old.head_s[r]  # the decode rows' own table: unchanged
    prompt = (2000, 0, 0, 2000 * 2001 / 2.0)
    saved = float(old.time(*prompt, rows=1) - spec.time(*prompt, rows=1))  # one prompt chunk's row
    assert saved == pytest.approx(old.head_s[1] - 2.0 * plain[1], rel=1e-9) and saved > 0
    mixed = (2000, 4, 4 * 3000, 2000 * 2001 / 2.0)  # beside 4 decode rows: theirs kept, the prompt's not
    assert float(old.time(*mixed, rows=5) - spec.time(*mixed, rows=5)) == pytest.approx(
        (old.head_s[5] - old.head_s[4]) - (2.0 * plain[5] - 2.0 * plain[4]), rel=1e-6)


def test_tensorrt_llm_prompt_rows_keep_a_decode_rows_price(monkeypatch: pytest.MonkeyPatch) -> None:
    """TensorRT-LLM's source is not readable here: its prompt rows pay as before (a what-if, not adopted); with it
    in `PROMPT_ROW_ENGINES` they would pay the target's and the draft's rows."""
    spec = _cost(LLAMA, "trtllm", k=1, batch=8)
    assert spec.decode_row_s is None  # Llama: no per-row attention, no verification split
    with monkeypatch.context() as m:
        m.setattr(speculative, "PROMPT_ROW_ENGINES", frozenset({"vllm", "sglang", "trtllm"}))
        what_if = _cost(LLAMA, "trtllm", k=1, batch=8)
    assert what_if.decode_row_s is not None
    assert what_if.head_s[2] - what_if.decode_row_s[2] == pytest.approx(2.0 * _plain_head("trtllm")[2], rel=1e-12)


def test_vllm_drafts_a_prompt_row_sglang_does_not() -> None:
    """K = 3: vLLM's proposer runs its 2 further steps over every request of the batch, the prompt's too; SGLang's
    prefill batch runs the draft's extend only."""
    vllm, sglang = _cost(LLAMA, "vllm", k=3, batch=8), _cost(LLAMA, "sglang", k=3, batch=8)
    for cost, engine in ((vllm, "vllm"), (sglang, "sglang")):
        assert cost.decode_row_s is not None
        prompt_row = cost.head_s[1] - cost.decode_row_s[1]
        plain = _plain_head(engine)[1]
        if engine == "sglang":
            assert prompt_row == pytest.approx(2.0 * plain, rel=1e-12)
        else:
            assert prompt_row > 2.0 * plain + 2.0 * plain  # + 2 x (draft layer + LM head)
            assert prompt_row < cost.head_s[1]  # but no verification


def test_the_scheduler_protocol_declares_what_schedule_prefill_leaves() -> None:
    from collections import deque

    assert {"longest", "keys", "prompts"} <= set(Scheduler.__annotations__)
    for policy in SCHEDULERS.values():
        s = policy()
        s.schedule_prefill(deque([[0, 300, 100], [1, 50, 0]]), 8192)
        assert (s.longest, s.keys, s.prompts) == (400, 450, 2)


def test_a_ttft_miss_that_waited_at_decode_admission_is_the_decode_pools() -> None:
    """Five 512-token prompts 1 s apart, 600 decode steps each (~2.2 s on H200), a decode pool of one slot: request i
    waits i x (D - 1 s) for the slot, D its predecessor's decode. By hand: mean TTFT = prefill + mean of i x (D - 1) +
    its pickup; over a 0.5 s SLO: requests 1-4 (>= 1.2 s), none had each started decoding as its KV arrived (~13 ms).
    So the misses are the decode pool's: serve-plan's retry grows it (`ttft_miss_pools`, `grown`)."""
    dep = Deployment(tp=1, max_batch=1, dtype="fp8", kv_dtype="fp8", stack="vllm-0.x")
    n, steps = 5, 600
    req = Requests(np.arange(n, dtype=float), np.full(n, 512), np.full(n, steps + 1))
    r = simulate_disaggregated(LLAMA, H200, DisaggregatedDeployment(dep, dep), req, ttft_slo_s=0.5, wait_split=True,
                               front_end=False)
    cost = build_iteration_cost(LLAMA, H200.accelerator, H200.fabric, dep)
    pre = float(prefill_time(cost, 1, 512))
    d_s = float(sum(decode_time(cost, 1, 512 + s) for s in range(steps)))
    assert d_s > 1.5
    by_hand = pre + np.mean([i * (d_s - 1.0) for i in range(n)])
    assert r["ttft_s"]["mean"] == pytest.approx(by_hand, rel=0.02)
    assert r["ttft_over_slo_count"] == n - 1
    assert r["ttft_over_slo_without_decode_wait_count"] == 0
    pools = ttft_miss_pools(r)
    assert pools == (False, True)
    option = {"gpus": 2, "replicas": 2, "prefill_replicas": 1, "disaggregated": True, "tp": 1}
    retry = grown(option, 1.05, 0.5, 100, (0, 0), pools)
    assert retry is not None and (retry["prefill_replicas"], retry["replicas"]) == (1, 3)
