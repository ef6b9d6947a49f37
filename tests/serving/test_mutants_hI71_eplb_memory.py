"""Mutation wave on the EPLB memory plan (hI, session 71): `serving.kv_cache.weight_bytes_per_gpu` /
`draft_layer_bytes` / `kv_capacity` with a stack's redundant experts R, `serving.expert_slots.redundant_experts`,
and `kv_dtype_refusal`. Hand counts: a DeepSeek-V3 routed expert is a SwiGLU FFN of 3 x 7,168 x 2,048 weights
(DeepSeek-V3 config: hidden 7,168, moe_intermediate_size 2,048), 44,040,192 bytes in fp8. The mutant ids are
hI71's NOTE's."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.loader import load_model
from infraplan.cluster import Cluster
from infraplan.serving import expert_slots
from infraplan.serving.kv_cache import (
    draft_layer_bytes,
    kind_params,
    kv_capacity,
    kv_dtype_refusal,
    stored_weight_bytes,
    weight_bytes_per_gpu,
)

EXPERT_FP8_BYTES = 3 * 7168 * 2048  # one routed expert of DeepSeek-V3 at one byte a weight


def test_redundant_experts_inside_the_tp_group_take_slots() -> None:
    """hI71 KV1: EP inside the TP group (TP 8, no wide EP: `ep` 1 here) with R = 8: 264 physical experts over 8
    GPUs are 33 slots a GPU where 256 are 32, one more slot: 1 / 32 of the routed weights a GPU holds."""
    shape = load_model("deepseek-v3")
    routed = kind_params(shape, 8, 1, 1.0)["routed_experts"] * stored_weight_bytes(shape, "fp8")
    extra = weight_bytes_per_gpu(shape, 8, 1, "fp8", 1, 8) - weight_bytes_per_gpu(shape, 8, 1, "fp8", 1, 0)
    assert extra == pytest.approx(routed / 32, rel=1e-12)


def test_an_mtp_draft_layer_holds_the_targets_slots() -> None:
    """hI71 KV3 / KV4: the NextN draft layer's MoE takes E + R experts like the target's (SGLang 0.5.9
    models/deepseek_v2.py:420-423; vLLM 0.12.0 deepseek_v2.py:276-282): at EP 32, R = 32 is 9 slots where 256 are
    8, one expert (44,040,192 fp8 bytes) more a GPU; and a vLLM replica with one pooled draft layer holds that
    beside the target's one more expert a routed layer."""
    shape = load_model("deepseek-v3")
    assert draft_layer_bytes(shape, 1, "fp8", 32, 32) - draft_layer_bytes(shape, 1, "fp8", 32, 0) == pytest.approx(
        EXPERT_FP8_BYTES, rel=1e-12)
    acc = Cluster.resolve("dgx-h100-superpod").accelerator
    held = [kv_capacity(shape, acc, 1, 1, "fp8", "bf16", 8192, 64, engine="vllm", ep=32, draft_layers=1,
                        redundant=r).weights_bytes for r in (0, 32)]
    target = weight_bytes_per_gpu(shape, 1, 1, "fp8", 32, 32) - weight_bytes_per_gpu(shape, 1, 1, "fp8", 32, 0)
    assert held[1] - held[0] == pytest.approx(target + EXPERT_FP8_BYTES, rel=1e-12)


def test_no_redundant_experts_without_expert_parallelism(tmp_path: Path) -> None:
    """hI71 KV5: EPLB balances experts across EP ranks; at EP 1 a stack's `ep_redundant_experts` adds none."""
    path = tmp_path / "eplb.yaml"
    path.write_text("display_name: eplb\nextends: sglang-0.x\nsource: test\nserving:\n  ep_redundant_experts: 32\n")
    assert expert_slots.redundant_experts(str(path), 16) == 32
    assert expert_slots.redundant_experts(str(path), 1) == 0


def test_kv_dtype_refusal_says_why_only_where_it_knows() -> None:
    """hI71 KV10: a weight format asked of the KV cache is named as one; an unknown string gets the choices alone."""
    assert kv_dtype_refusal("int4").endswith(": int4 is a weight format (--dtype int4), not a KV cache the stack "
                                             "profiles list")
    assert kv_dtype_refusal("q9") == "--kv-dtype must be one of bf16, fp8, int8, got 'q9'"


def test_the_refusal_names_the_redundant_counts_that_fill_whole_slots(tmp_path: Path) -> None:
    """hI71 KV9: SGLang asserts that EP divides E + R (srt/eplb/expert_location.py:204): DeepSeek-V3's 256 experts
    at EP 24 with R = 4 are 260 physical experts, refused; 256 + 8 = 264 = 11 x 24 and 256 + 32 = 288 = 12 x 24 fill
    whole slots (the hint: the least R, and one more slot a rank)."""
    path = tmp_path / "eplb4.yaml"
    path.write_text("display_name: eplb4\nextends: sglang-0.x\nsource: test\nserving:\n  ep_redundant_experts: 4\n")
    why = expert_slots.engine_refusal(load_model("deepseek-v3"), 24, "sglang", str(path))
    assert why is not None and "256 + 4 = 260 physical experts" in why
    assert why.endswith(": 8 or 32 redundant experts fill whole slots")
