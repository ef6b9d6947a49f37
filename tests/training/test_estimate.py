"""Behaviour of single training estimates: batch size, recompute, precision, ZeRO, memory, parallel layouts."""

from __future__ import annotations

import math

import pytest

from infraplan.catalog import load_accelerator, load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.training import PlanArrays, estimate_training, evaluate_plans
from infraplan.training.step_time import COMPONENTS

MEMORY_TERMS = ("weights", "gradients", "optimizer", "activations", "overhead")


def _mem(result: dict, term: str) -> float:
    return getattr(result.memory_breakdown_bytes, term)


# --- result shape ---------------------------------------------------------------------------------------------


def test_result_has_every_documented_key() -> None:
    r = estimate_training("llama3-8b", "dgx-h100-superpod", 64, tp=2, pp=2, seq_len=4096, global_batch=256)
    for key in ("step_time_s", "tokens_per_s", "tokens_per_s_per_gpu", "model_tflops_per_gpu", "mfu", "hfu",
                "memory_per_gpu_bytes", "memory_breakdown_bytes", "fits", "memory_overflow_term", "breakdown_s",
                "config"):
        assert key in type(r).model_fields, key
    assert set(r.breakdown_s.model_dump()) == set(COMPONENTS)
    assert set(r.memory_breakdown_bytes.model_dump()) == set(MEMORY_TERMS)
    assert r.config.dp == 16  # dp inferred from gpus / (tp pp cp)
    assert r.tokens_per_s == pytest.approx(256 * 4096 / r.step_time_s)
    assert r.tokens_per_s_per_gpu == pytest.approx(r.tokens_per_s / 64)
    assert r.memory_per_gpu_bytes == pytest.approx(sum(r.memory_breakdown_bytes.model_dump().values()))


# --- global batch and the pipeline bubble ---------------------------------------------------------------------


def test_bigger_global_batch_shrinks_bubble_fraction_and_raises_mfu() -> None:
    results = [estimate_training("llama3-70b", "dgx-h100-superpod", 64, tp=8, pp=4, seq_len=4096, global_batch=gb)
               for gb in (16, 64, 256, 1024)]
    fractions = [r.breakdown_s.pp_bubble / r.step_time_s for r in results]
    mfus = [r.mfu for r in results]
    assert all(a > b for a, b in zip(fractions, fractions[1:], strict=False)), fractions
    assert all(a < b for a, b in zip(mfus, mfus[1:], strict=False)), mfus
    # 1F1B: the bubble is (p - 1) stage times whatever the number of micro-batches
    bubbles = [r.breakdown_s.pp_bubble for r in results]
    assert bubbles == pytest.approx([bubbles[0]] * len(bubbles), rel=1e-12)
    # memory does not depend on the number of micro-batches once m >= p
    assert results[-1].memory_per_gpu_bytes == results[1].memory_per_gpu_bytes


def test_bubble_is_the_other_stages_over_v() -> None:
    """Narayanan et al.: bubble / ideal time = (p - 1) / (v m) for equal stages; the last stage also runs the LM
    head and loss (80 layers on PP4: 20 each), so the other three stages are lighter and the bubble is less.
    On a stack whose p2p is not overlapped (megatron-core-0.8): NeMo's hides the interleaved schedule's exchanges
    (`p2p_overlap_needs_interleaving`, tests/training/test_p2p_interleaving.py)."""
    kwargs = dict(tp=8, pp=4, seq_len=4096, global_batch=64, stack="megatron-core-0.8")
    plain = estimate_training("llama3-70b", "dgx-h100-superpod", 64, vpp=1, **kwargs)
    inter = estimate_training("llama3-70b", "dgx-h100-superpod", 64, vpp=2, **kwargs)
    m = plain.config.micro_batches
    for r, v in ((plain, 1), (inter, 2)):
        b = r.breakdown_s
        ideal = sum(getattr(b, k) for k in ("compute", "tp_comm", "cp_comm", "ep_comm", "other"))
        assert 0.8 * 3 / (v * m) < b.pp_bubble / ideal < 3 / (v * m)
    # o / v and the embedding's chunk, (p - 1/v) embeddings more: a few ms (tests/training/test_end_chunk_bubble.py)
    over_v = plain.breakdown_s.pp_bubble / 2
    assert over_v < inter.breakdown_s.pp_bubble < 1.03 * over_v
    assert inter.breakdown_s.pp_comm > plain.breakdown_s.pp_comm  # twice as many chunk boundaries


# --- activation recomputation ---------------------------------------------------------------------------------

GPT3_A100 = dict(model="gpt3-175b", system="dgx-a100-superpod", gpus=1024, tp=8, pp=16, seq_len=2048,
                 global_batch=1536)


def _gpt3(recompute: str, attention: str) -> dict:
    return estimate_training(**GPT3_A100, recompute=recompute, attention=attention)


@pytest.mark.parametrize("attention", ["flash", "unfused"])
def test_full_recompute_costs_time_and_saves_activation_memory(attention: str) -> None:
    none, full = _gpt3("none", attention), _gpt3("full", attention)
    assert full.step_time_s > none.step_time_s
    assert _mem(full, "activations") < 0.25 * _mem(none, "activations")
    for term in ("weights", "gradients", "optimizer", "overhead"):
        assert _mem(full, term) == _mem(none, term)
    # the extra forward counts in hardware FLOPs, not model FLOPs
    assert full.model_tflops_per_gpu * full.step_time_s == pytest.approx(
        none.model_tflops_per_gpu * none.step_time_s, rel=1e-12)
    assert full.hfu > full.mfu
    assert none.hfu == pytest.approx(none.mfu, rel=1e-12)


def test_selective_recompute_with_unfused_attention_is_the_middle_ground() -> None:
    none, sel, full = (_gpt3(mode, "unfused") for mode in ("none", "selective", "full"))
    assert _mem(sel, "activations") < _mem(none, "activations")
    assert _mem(full, "activations") < _mem(sel, "activations")
    assert none.step_time_s < sel.step_time_s < full.step_time_s
    # Korthikanti: selective recompute costs a few per cent, full about a third more time
    assert sel.step_time_s / none.step_time_s < 1.10
    assert sel.hfu > sel.mfu


def test_selective_recompute_saves_nothing_with_flash_attention() -> None:
    """Fused attention never stores the s x s scores, the only thing selective recompute drops."""
    none, sel = _gpt3("none", "flash"), _gpt3("selective", "flash")
    assert _mem(sel, "activations") == _mem(none, "activations")
    # and flash stores what selective-with-unfused stores
    assert _mem(sel, "activations") == _mem(_gpt3("selective", "unfused"), "activations")
    assert _mem(_gpt3("none", "unfused"), "activations") > _mem(none, "activations")


# --- precision --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", [None, "megatron-core-0.8"])  # the default, and a stack without TP overlap
def test_fp8_is_faster_than_bf16_for_gpt3_on_h100(stack: str | None) -> None:
    kwargs = dict(tp=8, pp=8, global_batch=1536, seq_len=2048, stack=stack)
    bf16 = estimate_training("gpt3-175b", "dgx-h100-superpod", 512, dtype="bf16", **kwargs)
    fp8 = estimate_training("gpt3-175b", "dgx-h100-superpod", 512, dtype="fp8", **kwargs)
    assert fp8.step_time_s < bf16.step_time_s
    assert fp8.breakdown_s.compute < bf16.breakdown_s.compute
    assert fp8.tokens_per_s > bf16.tokens_per_s
    assert fp8.model_tflops_per_gpu > bf16.model_tflops_per_gpu
    # the GEMMs are not the whole step: far from 2x
    assert fp8.step_time_s > 0.5 * bf16.step_time_s
    if stack == "megatron-core-0.8":  # no TP overlap, bf16 all-gathers: the exposed TP time is the collective alone,
        # whatever the GEMM precision (with overlap, fp8's shorter GEMMs hide less of it)
        assert fp8.breakdown_s.tp_comm == bf16.breakdown_s.tp_comm


# --- ZeRO -----------------------------------------------------------------------------------------------------


def test_zero_stages_shard_optimizer_then_gradients_then_weights() -> None:
    dp = 8
    r = [estimate_training("llama3-70b", "dgx-h100-superpod", 256, tp=8, pp=4, seq_len=4096, global_batch=512,
                           zero=z) for z in range(4)]
    assert all(x.config.dp == dp for x in r)
    m = [x.memory_breakdown_bytes for x in r]
    # ZeRO-1: optimizer state / dp, the rest unchanged
    assert m[1].optimizer == pytest.approx(m[0].optimizer / dp, rel=1e-12)
    assert (m[1].gradients, m[1].weights) == (m[0].gradients, m[0].weights)
    # ZeRO-2: gradients / dp as well
    assert m[2].gradients == pytest.approx(m[1].gradients / dp, rel=1e-12)
    assert (m[2].optimizer, m[2].weights) == (m[1].optimizer, m[1].weights)
    # ZeRO-3: weights sharded too (plus the gathered working layers)
    assert m[3].weights < m[2].weights / 2
    assert (m[3].optimizer, m[3].gradients) == (m[2].optimizer, m[2].gradients)
    totals = [x.memory_per_gpu_bytes for x in r]
    assert totals[0] > totals[1] > totals[2] > totals[3]
    # activations never depend on ZeRO
    assert len({x.activations for x in m}) == 1
    # ZeRO-3 gathers weights forward and backward: more DP traffic than ZeRO-1/2
    assert r[3].breakdown_s.dp_comm_exposed >= r[2].breakdown_s.dp_comm_exposed


def test_zero_needs_data_parallelism_to_shard() -> None:
    r0 = estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=8, zero=0)
    r2 = estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=8, zero=2)
    assert r0.config.dp == 1
    for term in ("optimizer", "gradients"):
        assert _mem(r0, term) == _mem(r2, term)


# --- memory capacity ------------------------------------------------------------------------------------------


def test_overflowing_plan_reports_fits_false_and_the_biggest_term() -> None:
    r = estimate_training("llama3-405b", "dgx-h100-superpod", 8, tp=8, pp=1)
    capacity = load_accelerator("h100-sxm").memory_bytes
    assert r.memory_per_gpu_bytes > capacity
    assert r.fits is False
    term = r.memory_overflow_term
    assert term in MEMORY_TERMS
    breakdown = r.memory_breakdown_bytes
    assert getattr(breakdown, term) == max(breakdown.model_dump().values())
    # 405B parameters over 8 GPUs: optimizer state alone (12 B/param, no DP to shard over) is ~600 GB
    assert term == "optimizer"
    assert breakdown.optimizer > 12 * 405e9 / 8 * 0.95


def test_fitting_plan_has_no_overflow_term() -> None:
    r = estimate_training("llama3-8b", "dgx-h100-superpod", 64, tp=2, pp=2, seq_len=4096, global_batch=256)
    assert r.fits is True
    assert r.memory_overflow_term is None
    assert r.memory_per_gpu_bytes <= load_accelerator("h100-sxm").memory_bytes


# --- uneven pipelines and replicated KV heads ---------------------------------------------------------------


def test_llama3_405b_126_layers_on_pp16() -> None:
    """126 layers do not divide by 16: the heaviest stage holds ceil(126/16) = 8 layers (the stack's plain even
    split, a Stack object taken as given; by name the stack runs the 405B recipe's split, test_model_recipes.py)."""
    shape = load_model("llama3-405b")
    assert shape.num_layers == 126
    plain = load_stack("nemo-26.04").model_copy(update={"pipeline_split_divisible": False})  # (0.16.1 refuses it, hR44)
    r = estimate_training("llama3-405b", "dgx-h100-superpod", 1024, tp=8, pp=16, seq_len=8192, global_batch=512,
                          stack=plain)
    assert r.config.pp == 16 and r.config.dp == 8
    assert math.isfinite(r.step_time_s) and r.step_time_s > 0
    assert r.breakdown_s.pp_bubble > 0 and r.breakdown_s.pp_comm > 0
    # TP8 = 8 KV heads: every matrix is split exactly 8 ways; the first stage also holds the embedding
    expected_weights = 2.0 * (8 * shape.params_per_layer() / 8 + shape.vocab_size * shape.hidden_size / 8)
    assert _mem(r, "weights") == pytest.approx(expected_weights, rel=1e-9)
    # an even split over 18 stages (7 layers each) holds less
    r18 = estimate_training("llama3-405b", "dgx-h100-superpod", 1152, tp=8, pp=18, seq_len=8192,
                            global_batch=576, stack=plain)
    assert _mem(r18, "weights") < _mem(r, "weights")


def test_kv_heads_fewer_than_tp_are_replicated_on_gb200() -> None:
    shape = load_model("llama3-405b")
    assert shape.num_kv_heads == 8
    tp, pp = 16, 8
    r = estimate_training("llama3-405b", "gb200-nvl72", 2048, tp=tp, pp=pp, seq_len=8192, global_batch=512,
                          stack=load_stack("nemo-26.04").model_copy(update={"pipeline_split_divisible": False}))
    assert math.isfinite(r.step_time_s) and r.breakdown_s.tp_comm > 0
    h, d, f, q = shape.hidden_size, shape.head_dim, shape.ffn_hidden_size, shape.num_heads * shape.head_dim
    # per GPU: 1/16 of Q, O and the FFN, but one whole K and V head (8 heads cannot be split 16 ways)
    layer = 2 * h * q / tp + 2 * h * d * 1 + 3 * h * f / tp
    expected_weights = 2.0 * (math.ceil(126 / pp) * layer + shape.vocab_size * h / tp)
    assert _mem(r, "weights") == pytest.approx(expected_weights, rel=1e-9)


def _kv_variant_results(kv_heads: int) -> dict:
    shape = load_model("llama3-405b").model_copy(update={"num_kv_heads": kv_heads})
    return estimate_training(shape, "gb200-nvl72", 2048, tp=16, pp=8, seq_len=8192, global_batch=512)


def test_replicated_kv_heads_cost_as_much_as_one_head_per_gpu() -> None:
    """At TP16 a GPU holds one K and one V head whether the model has 8 KV heads (replicated) or 16."""
    gqa8, gqa16 = _kv_variant_results(8), _kv_variant_results(16)
    assert _mem(gqa8, "weights") == _mem(gqa16, "weights")
    assert gqa8.step_time_s == gqa16.step_time_s


def test_replicated_kv_heads_store_one_head_of_activations_per_gpu() -> None:
    """K and V activations of a replicated head are not split further by TP (regression: they were /TP)."""
    gqa8, gqa16 = _kv_variant_results(8), _kv_variant_results(16)
    assert _mem(gqa8, "activations") == pytest.approx(_mem(gqa16, "activations"), rel=1e-12)


# --- MoE, CP --------------------------------------------------------------------------------------------------


def test_moe_expert_parallel_has_all_to_all_and_dense_has_none() -> None:
    kwargs = dict(tp=1, pp=1, seq_len=4096, global_batch=512, zero=3)
    ep8 = estimate_training("mixtral-8x7b", "dgx-h100-superpod", 64, ep=8, **kwargs)
    ep1 = estimate_training("mixtral-8x7b", "dgx-h100-superpod", 64, ep=1, **kwargs)
    dense = estimate_training("llama3-8b", "dgx-h100-superpod", 64, **kwargs)
    assert ep8.breakdown_s.ep_comm > 0.0
    assert ep1.breakdown_s.ep_comm == 0.0
    assert dense.breakdown_s.ep_comm == 0.0
    # EP8 keeps one expert of eight per GPU
    zero0 = {**kwargs, "zero": 0}
    w8 = _mem(estimate_training("mixtral-8x7b", "dgx-h100-superpod", 64, ep=8, **zero0), "weights")
    w1 = _mem(estimate_training("mixtral-8x7b", "dgx-h100-superpod", 64, ep=1, **zero0), "weights")
    assert w8 < w1 / 3


def test_moe_ep_across_nodes_costs_more_than_inside_a_node() -> None:
    kwargs = dict(pp=1, seq_len=4096, global_batch=512)
    inside = estimate_training("mixtral-8x7b", "dgx-h100-superpod", 64, tp=1, ep=8, **kwargs)
    across = estimate_training("mixtral-8x7b", "dgx-h100-superpod", 512, tp=8, ep=8, **kwargs)
    # per byte, EP over NICs (stride 8) is slower than over NVLink (stride 1); tokens per GPU are 1/8 with TP8
    inside_per_byte = inside.breakdown_s.ep_comm
    across_per_byte = across.breakdown_s.ep_comm * 8
    assert across_per_byte > inside_per_byte


@pytest.mark.parametrize("ep", [8, 4, 2])
def test_zero_cannot_shard_experts_beyond_the_expert_data_parallel_group(ep: int) -> None:
    """Expert parameters are replicated over DP/EP ranks only (with DP = EP = 8 each rank's expert is
    unique), while the dense part is replicated over all of DP (regression: all was divided by DP)."""
    shape = load_model("mixtral-8x7b")
    dp = 8
    r = estimate_training("mixtral-8x7b", "dgx-h100-superpod", dp, tp=1, pp=1, ep=ep, seq_len=4096,
                          global_batch=64, zero=1)
    layers, h = shape.num_layers, shape.hidden_size
    experts = layers * (shape.num_experts / ep) * shape.expert_params()
    dense = layers * (shape.attention_params_per_layer() + h * shape.num_experts) + 2 * shape.vocab_size * h
    assert _mem(r, "optimizer") == pytest.approx(12.0 * (experts / (dp / ep) + dense / dp), rel=1e-9)
    if ep == dp:
        assert _mem(r, "optimizer") >= 12.0 * layers * shape.expert_params()


def test_context_parallel_communicates_and_splits_activations() -> None:
    kwargs = dict(tp=1, pp=1, seq_len=8192, global_batch=512)
    cp2 = estimate_training("llama3-8b", "dgx-h100-superpod", 64, cp=2, **kwargs)
    cp1 = estimate_training("llama3-8b", "dgx-h100-superpod", 64, cp=1, **kwargs)
    assert cp2.breakdown_s.cp_comm > 0.0
    assert cp1.breakdown_s.cp_comm == 0.0
    assert cp2.config.dp == 32
    assert _mem(cp2, "activations") < 0.6 * _mem(cp1, "activations")


# --- the 1:7 tier above Llama 3 pods --------------------------------------------------------------------------


def _roce_plans(cp: int, dp: int, pp: int = 16) -> dict[str, float]:
    shape = load_model("llama3-405b")
    hashed = Cluster.resolve("meta-genai-roce-24k")
    # the even spread: these tests price the tiers' oversubscription; the catalog's ECMP hashes (hE74,
    # `network.ecmp_tiers`) hash over other pools on the flat copy's other switches ("roce_hashed": the file's own)
    net = hashed.system.network.model_copy(update={"load_balancing": "adaptive", "load_balancing_source": "test"})
    flat = net.model_copy(update={"tiers": [t.model_copy(update={"oversubscription": 1.0}) for t in net.tiers]})
    clusters = {
        "roce": Cluster(hashed.system.model_copy(update={"network": net}), hashed.accelerator),
        "roce_flat": Cluster(hashed.system.model_copy(update={"network": flat}), hashed.accelerator),
        "roce_hashed": hashed,
        "ib": Cluster.resolve("meta-genai-ib-24k"),
    }
    plan = PlanArrays.build(tp=8, pp=pp, dp=dp, cp=cp, ep=1, vpp=1, micro_batch=1, global_batch=16 * dp,
                            seq_len=8192, recompute=0, zero=1, dtype=0, attention=0,
                            order=0)  # tp-cp-pp-dp, the strides below (a plan built without one takes its stack's)
    assert int(plan.gpus[0]) > 3072  # the DP group leaves a pod
    return {name: evaluate_plans(shape, c, plan) for name, c in clusters.items()}


def test_dp_group_with_many_members_per_pod_is_not_slowed_by_oversubscription() -> None:
    """TP8 x PP16: DP stride 128, 24 members per 3,072-GPU pod; a ring leaves a pod once per group, and
    24 NICs / 7 > 1 NIC, so the 1:7 tier does not bind."""
    out = _roce_plans(cp=1, dp=32)
    assert out["roce"]["step_time_s"][0] == out["roce_flat"]["step_time_s"][0]
    assert out["roce"]["dp_comm_exposed"][0] == out["roce_flat"]["dp_comm_exposed"][0]
    # against the non-blocking InfiniBand cluster only latency differs
    assert out["roce"]["step_time_s"][0] == pytest.approx(out["ib"]["step_time_s"][0], rel=1e-3)
    # all 32 x 128 rings' flows hashed at once (16 a pair) collide on the racks' uplinks: more DP time exposed
    assert out["roce_hashed"]["dp_comm_exposed"][0] > out["roce"]["dp_comm_exposed"][0]


def test_dp_group_with_few_members_per_pod_is_slowed_by_oversubscription() -> None:
    """TP8 x PP64: DP stride 512, only 6 members per pod: 6 NICs / 7 < 1 NIC, the tier binds. (TP8 x CP4 x PP16 DP8
    had DP stride 512 too, but its gradients are reduced over DP x CP, `stage_params.dp_groups`: 4 CP ranks per DP
    block, 24 members per pod, the tier does not bind; hE, session 38.)"""
    with_cp = _roce_plans(cp=4, dp=8)
    assert with_cp["roce"]["dp_comm_exposed"][0] == with_cp["roce_flat"]["dp_comm_exposed"][0]
    out = _roce_plans(cp=1, dp=8, pp=64)
    assert out["roce"]["dp_comm_exposed"][0] > 1.1 * out["roce_flat"]["dp_comm_exposed"][0]
    assert out["roce"]["step_time_s"][0] > out["roce_flat"]["step_time_s"][0]
    assert out["roce"]["dp_comm_exposed"][0] > 1.1 * out["ib"]["dp_comm_exposed"][0]
    for k in ("compute", "tp_comm", "pp_bubble"):
        assert out["roce"][k][0] == out["roce_flat"][k][0]


# --- FLOPs accounting -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("gpus", "tp", "pp", "batch"), [(512, 8, 8, 1536), (1024, 8, 16, 2048), (96, 8, 12, 96)])
def test_model_tflops_match_megatron_formula_for_gpt3(gpus: int, tp: int, pp: int, batch: int) -> None:
    shape = load_model("gpt3-175b")
    s, l_, h, v = 2048, shape.num_layers, shape.hidden_size, shape.vocab_size
    assert (l_, h) == (96, 12288)
    r = estimate_training("gpt3-175b", "dgx-a100-superpod", gpus, tp=tp, pp=pp, seq_len=s, global_batch=batch)
    flops = 72.0 * batch * s * l_ * h**2 * (1.0 + s / (6.0 * h) + v / (12.0 * l_ * h))
    megatron = flops / (r.step_time_s * gpus) / 1e12
    assert r.model_tflops_per_gpu == pytest.approx(megatron, rel=0.005)
    assert r.mfu == pytest.approx(megatron * 1e12 / 312e12, rel=0.005)
