"""Mutation wave 17 (hQ44's quantised LM head priced: serving/kv_cache.py, serving/llm_iteration.py,
serving/deployment.py; hM17, session 43), on cases the landed tests left open.

By hand (Llama 3 8B: vocab 128,256 x hidden 4,096 = 525.3 M head weights, H100 SXM 3.35 TB/s, 989 TFLOP/s bf16):
* weights: a GPTQ head stored at 4 bits holds 525.3 M x (2 - 0.5) B less per GPU at TP 1, under a scoped checkpoint
  (attention kept bf16) as under `all`;
* decode at batch 1 reads the head's weights: the bf16 head at the engine's measured bf16 weight-read fraction
  (h100-sxm.yaml `weight_read_fraction`), the 4-bit head at the generic memory fraction 0.88 (int4 reads are not
  measured: hardware.kernels.weight_read_rates), so the time saved is 2 B x W / (f_bf16 x BW) - 0.5 B x W / (0.88 x
  BW) for every engine (a different f per engine);
* a compute-bound head (8,192 rows) costs 2 x 8,192 x W FLOPs at the weight-only rate (0.47 of peak, Marlin W4A16)
  against the bf16 rate (0.70 of peak): the difference of the two runs is those FLOPs x (1/r_int4 - 1/r_bf16), the
  logits' elementwise work being the same in both.
"""

from __future__ import annotations

import warnings

import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.catalog.loader import read_entry
from infraplan.catalog.model_config import TransformerShape, shape_from_hf_config
from infraplan.network.collectives import Fabric
from infraplan.serving.deployment import weight_format
from infraplan.serving.kv_cache import weight_bytes_per_gpu
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost

H100 = load_accelerator("h100-sxm")
FABRIC = Fabric.from_system(load_system("dgx-h100-superpod"), H100)
GPTQ = {"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": False, "sym": True}
HEAD = 128256 * 4096
W4 = 0.5 + 2.0 / 128  # GPTQ int4, sym, groups of 128: 4 bits and an fp16 scale per group (vLLM 0.18 gptq.py)


def _shape(model: str, head: bool, **extra: object) -> TransformerShape:
    config, _ = read_entry("models", model)
    quant = {**GPTQ, "lm_head": head, **extra}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every config here is modelled: nothing said
        return shape_from_hf_config({**config, "quantization_config": quant}, f"{model}-{head}-{sorted(extra)}")


def test_a_scoped_checkpoint_holds_its_quantised_head_at_4_bits_too() -> None:
    head, plain = (_shape("llama3-8b", h, modules_to_not_convert=["self_attn"]) for h in (True, False))
    assert head.checkpoint_weight_scope == plain.checkpoint_weight_scope == "dense_mlp"
    for tp in (1, 2):
        saved = weight_bytes_per_gpu(plain, tp, 1, "int4") - weight_bytes_per_gpu(head, tp, 1, "int4")
        assert saved == pytest.approx(HEAD / tp * (2.0 - W4), rel=1e-9)


@pytest.mark.parametrize(("engine", "stack"), [("vllm", "vllm-0.x"), ("sglang", "sglang-0.x"),
                                               ("trtllm", "trtllm-0.x")])
def test_batch_one_decode_reads_the_head_at_each_formats_rate(engine: str, stack: str) -> None:
    dep = Deployment(dtype="int4", engine=engine, stack=stack, token_budget=512, max_batch=256)
    quantised = build_iteration_cost(_shape("llama3-8b", True), H100, FABRIC, dep)
    plain = build_iteration_cost(_shape("llama3-8b", False), H100, FABRIC, dep)
    bw, eff = H100.memory_bandwidth_bytes_per_s, H100.efficiency
    read = eff.weight_read_fraction[engine]["bf16"]  # type: ignore[index]
    hand = HEAD * 2.0 / (bw * read) - HEAD * W4 / (bw * eff.memory_bandwidth_fraction)
    assert plain.head_s[1] - quantised.head_s[1] == pytest.approx(hand, rel=2e-4)


def test_a_compute_bound_quantised_head_runs_at_the_weight_only_rate() -> None:
    dep = Deployment(dtype="int4", engine="vllm", stack="vllm-0.x", token_budget=8192, max_batch=4096)
    quantised = build_iteration_cost(_shape("llama3-8b", True), H100, FABRIC, dep)
    plain = build_iteration_cost(_shape("llama3-8b", False), H100, FABRIC, dep)
    peak, weight_only = H100.peak("bf16"), H100.efficiency.weight_only_matmul_fraction
    assert weight_only == 0.47  # h100-sxm.yaml: 2/3 of the bf16 0.70 (mma.sync ceiling on Hopper)
    flops = 2.0 * 8192 * HEAD
    hand = flops / (peak * weight_only) - flops / (peak * H100.matmul_fraction("bf16"))
    assert quantised.head_s[8192] - plain.head_s[8192] == pytest.approx(hand, rel=2e-3)  # 6.08 ms


def test_an_experts_only_checkpoint_with_a_quantised_head_does_not_call_it_bf16() -> None:
    """Kimi K2 under GPTQ with attention, shared experts and the dense layer kept bf16: the routed experts only,
    and the head stored and run at 4 bits (`lm_head: true`): the weight-format line lists it among the bf16 parts
    only where it is bf16."""
    keep = ["self_attn", "shared_experts", "model.layers.0.mlp"]
    head, plain = (_shape("kimi-k2", h, modules_to_not_convert=keep) for h in (True, False))
    assert head.checkpoint_weight_scope == plain.checkpoint_weight_scope == "experts"
    said, plain_said = weight_format(H100, "int4", head), weight_format(H100, "int4", plain)
    assert "routed experts only: attention, router, shared experts, dense layers in bf16" in said
    assert "LM head" not in said and "dense layers and LM head in bf16" in plain_said
