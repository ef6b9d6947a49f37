"""DeepSeek-V3.2's lightning indexer launches as vLLM 0.12.0 runs them (hQ, session 62): `sparse_attn_indexer`
(model_executor/models/deepseek_v2.py:603-764) runs the key quantise-and-cache (:645) and the top-k buffer fill
(:653) once a call, then per prefill chunk the cached keys' gather (:667), the logits (:679) and `top_k_per_row`
(:691), and in decode the paged logits (:731) and `top_k_per_row_decode` (:744): 4 launches a decode layer forward,
5 a prefill one and 7 a mixed one (hN62 priced 3 / 3 / 6). The once-a-call pair is charged once an iteration that
holds both phases (`IterationCost.shared_fixed_s`), by every path that prices an iteration."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.serving import loop_stepping
from infraplan.serving.deployment import Deployment
from infraplan.serving.llm_iteration import build_iteration_cost
from infraplan.serving.serving_engine import simulate_engine
from infraplan.serving.sparse_decode import sparse_terms

CLUSTER = Cluster.resolve("hgx-h200")
SHAPE = load_model("deepseek-v3.2")
RATES = KernelRates.for_dtype(CLUSTER.accelerator, "bf16")
LAUNCH = RATES.kernel_overhead_s
DEP = Deployment(tp=8, dtype="fp8", kv_dtype="fp8", engine="vllm", stack="vllm-0.x", max_batch=64, token_budget=8192)
LAYERS = 61
# deepseek_v2.py:645 + :653; :667 + :679 (+ DeepGEMM's clean kernel, hC63) + :691; :731 (+ its clean) + :744
PER_CALL, PREFILL, DECODE = 2, 4, 3


@pytest.mark.parametrize("k", [0, 1, 3])
def test_the_indexer_launches_per_phase_and_per_call(k: int) -> None:
    dep = dataclasses.replace(DEP, speculative_tokens=k, acceptance=0.8 if k else 0.0)
    kv_layers, prompt_layers = LAYERS + k, LAYERS + (1 if k else 0)  # the caller's counts (`llm_iteration`)
    terms = sparse_terms(SHAPE, CLUSTER.accelerator, RATES, dep, LAYERS, kv_layers, prompt_layers)
    assert terms is not None
    assert terms.launches_s == pytest.approx((PER_CALL + DECODE) * LAUNCH * kv_layers, rel=1e-12)  # 5 a forward
    assert terms.prefill_launches_s == pytest.approx((PER_CALL + PREFILL) * LAUNCH * prompt_layers, rel=1e-12)  # 6
    # a mixed iteration: the prompt's forwards carry both phases (9 each), the K - 1 later draft forwards decode (5)
    mixed = terms.launches_s + terms.prefill_launches_s - terms.shared_launches_s
    expected = (PER_CALL + PREFILL + DECODE) * prompt_layers + (PER_CALL + DECODE) * (kv_layers - prompt_layers)
    assert mixed == pytest.approx(expected * LAUNCH, rel=1e-12)


def test_a_mixed_iteration_pays_the_per_call_kernels_once() -> None:
    """Through `IterationCost.time`: a mixed iteration's fixed time is the prefill's and the decode's less 2 x 61
    launches; a decode-only and a prefill-only iteration keep theirs. DeepSeek-V3 (no indexer) shares nothing."""
    cost = build_iteration_cost(SHAPE, CLUSTER.accelerator, CLUSTER.fabric, DEP)
    assert cost.shared_fixed_s == pytest.approx(PER_CALL * LAUNCH * LAYERS, rel=1e-12)
    apart = dataclasses.replace(cost, shared_fixed_s=0.0)
    p, d, ctx, pairs = np.array([512, 512, 0]), np.array([8, 0, 8]), np.array([8 * 4096, 0, 8 * 4096]), 512 * 513 / 2
    pairs = np.array([pairs, pairs, 0.0])
    saved = apart.time(p, d, ctx, pairs) - cost.time(p, d, ctx, pairs)
    assert saved == pytest.approx([PER_CALL * LAUNCH * LAYERS, 0.0, 0.0], abs=1e-12)
    dense = build_iteration_cost(load_model("deepseek-v3"), CLUSTER.accelerator, CLUSTER.fabric, DEP)
    assert dense.shared_fixed_s == 0.0


@pytest.mark.parametrize("jump", [True, False])  # True: `serving.fcfs_loop`; False: `serving.engine_loop`
def test_the_engine_loops_charge_the_shared_kernels_once_a_mixed_iteration(jump: bool) -> None:
    """Two requests: A's prompt runs alone, then B's prompt joins A's decode (a mixed iteration): B's first token is
    the shared seconds earlier than where the cost shares nothing; A's, a prefill-only iteration, does not move. A
    large shared term makes the shift plain."""
    cost = build_iteration_cost(SHAPE, CLUSTER.accelerator, CLUSTER.fabric, DEP)
    shared = dataclasses.replace(cost, shared_fixed_s=0.25)
    apart = dataclasses.replace(cost, shared_fixed_s=0.0)
    arrival, prompt = np.array([0.0, 0.05]), np.array([256, 256])
    runs = [simulate_engine(c, arrival, prompt, np.zeros(2, dtype=np.int64), np.array([400, 5]), 64, 8192, 100000,
                            16, jump=jump) for c in (shared, apart)]
    assert runs[0].first_token_s[0] == runs[1].first_token_s[0]
    assert runs[1].first_token_s[1] - runs[0].first_token_s[1] == pytest.approx(0.25, rel=1e-9)


def test_a_lockstep_ranks_iteration_charges_the_shared_kernels_once() -> None:
    """`loop_stepping.iteration_seconds` (the lock-step ranks' sum, `serving.lockstep_loop`)."""
    cost = build_iteration_cost(SHAPE, CLUSTER.accelerator, CLUSTER.fabric, DEP)
    apart = dataclasses.replace(cost, shared_fixed_s=0.0)
    seconds = [loop_stepping.iteration_seconds(loop_stepping.cost_tables(c, DEP.max_batch), c, 512, 8, 9,
                                               512 * 513 / 2, 8 * 4096.0)[0] for c in (cost, apart)]
    assert seconds[1] - seconds[0] == pytest.approx(cost.shared_fixed_s, rel=1e-9)
    assert seconds[0] == pytest.approx(float(cost.time(512, 8, 8 * 4096, 512 * 513 / 2, rows=9)), rel=1e-12)
