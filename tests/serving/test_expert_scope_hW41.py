"""A 4-bit serving checkpoint that quantises the routed experts only (issue 13 item 5, hW41).

GPT-OSS's MXFP4 release (openai/gpt-oss-120b config.json `modules_to_not_convert`: self_attn, mlp.router,
embed_tokens, lm_head) and Kimi K2.5's INT4 release (compressed-tensors `ignore`: lm_head, self_attn, shared_experts,
the dense MLP) store only the routed experts in 4 bits; vLLM 0.18.0 runs every other linear unquantised
(quantization/mxfp4.py:215-230). The scope comes from the model config's quantization_config
(`catalog.model_config_quantization`) and prices the weight bytes (`serving.kv_cache.weight_bytes_per_gpu`) and
every GEMM (`serving.llm_iteration`); a config without one is priced as before, every layer in the --dtype.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.catalog.loader import read_entry
from infraplan.catalog.model_config import ModelConfigWarning, shape_from_hf_config
from infraplan.catalog.model_config_quantization import checkpoint_quantization
from infraplan.cli import main
from infraplan.network.collectives import Fabric
from infraplan.ops import precision
from infraplan.serving import (
    format_precision,
    layer_work,  # `layer_time`, split out of llm_iteration (hI58)
)
from infraplan.serving import llm_iteration as li
from infraplan.serving.deployment import weight_format
from infraplan.serving.kv_cache import weight_bytes_per_gpu
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, decode_time

H100 = load_accelerator("h100-sxm")
FABRIC = Fabric.from_system(load_system("dgx-h100-superpod"), H100)
MOE = ("attention", "routed_experts")
KIMI_IGNORE = ["lm_head", "re:.*self_attn.*", "re:.*shared_experts.*", "re:.*mlp\\.(gate|up|gate_up|down)_proj.*"]


def _int4_groups(**extra: object) -> dict:
    weights = {"num_bits": 4, "type": "int", "group_size": 32, "strategy": "group", "symmetric": True}
    return {"quant_method": "compressed-tensors", "config_groups": {"group_0": {"targets": ["Linear"],
                                                                                 "weights": weights}}, **extra}


def test_gpt_oss_120b_weight_bytes_by_hand_experts_at_4_25_bits_the_rest_bf16() -> None:
    shape = load_model("gpt-oss-120b")
    h, layers, experts, vocab = 2880, 36, 128, 201088
    expert = 3 * h * 2880  # gate, up, down of one expert (intermediate_size 2880)
    attention = 2 * h * 64 * 64 + 2 * h * 8 * 64  # Q and output over 64 heads of 64, K and V over 8 KV heads
    routed = layers * experts * expert * 0.53125  # MXFP4: 4 bits + one e8m0 scale byte per 32
    rest = (layers * (attention + h * experts) + 2 * vocab * h) * 2.0  # router, untied embedding and LM head: bf16
    assert weight_bytes_per_gpu(shape, 1, 1, "mxfp4") == pytest.approx(routed + rest, rel=1e-12)
    assert (routed + rest) / 1e9 == pytest.approx(65.17, abs=0.01)  # the published checkpoint: ~65 GB
    # TP 8 (EP inside TP): experts and the projections split 8 ways; the 8 KV heads, one per GPU
    tp8 = (layers * experts * expert / 8 * 0.53125
           + (layers * (2 * h * 4096 / 8 + 2 * h * 64 + h * experts) + 2 * vocab * h / 8) * 2.0)
    assert weight_bytes_per_gpu(shape, 8, 1, "mxfp4") == pytest.approx(tp8, rel=1e-12)


def test_int4_on_gpt_oss_is_another_checkpoint_every_layer_in_4_bits() -> None:
    shape = load_model("gpt-oss-120b")
    assert precision.weight_scope(shape, "mxfp4") == "experts" and precision.weight_scope(shape, "int4") == "all"
    everything = weight_bytes_per_gpu(shape, 1, 1, "int4")
    ends = 2 * 201088 * 2880 * 2.0
    assert everything == pytest.approx((weight_bytes_per_gpu(shape, 1, 1, "bf16") - ends) / 4 + ends, rel=1e-12)


def _layer(shape, dtype: str, plain: bool) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    dep = Deployment(dtype=dtype, engine="vllm", stack="vllm-0.x", token_budget=64)
    rates = li.KernelRates.for_dtype(H100, "bf16")
    prec = format_precision.serving_precision(H100, dtype, dep.stack)
    gemm_rates = li.decode_kernels.gemm_rates(H100, rates, dep.engine, precision.SERVING_FORMATS[dtype]
                                              .weight_read_dtype)
    bf16 = (format_precision.serving_precision(H100, "bf16", dep.stack),
            li.decode_kernels.gemm_rates(H100, rates, dep.engine, "bf16"))
    m = np.array([1.0, 16.0, 64.0])
    layer_s, _, routed_s = layer_work.layer_time(shape, rates, FABRIC, dep, prec, m, gemm_rates, 0, 0.0, 1.0, H100,
                                          bf16 if plain else None, frozenset(("expert_up", "expert_down")))
    return layer_s - routed_s, routed_s


def test_under_the_experts_scope_every_non_expert_gemm_is_priced_at_bf16() -> None:
    shape = load_model("gpt-oss-120b")
    bf16_rest, bf16_routed = _layer(shape, "bf16", False)
    rest, routed = _layer(shape, "mxfp4", True)
    assert np.allclose(rest, bf16_rest, rtol=1e-12, atol=0.0)  # attention, router: the bf16 GEMMs exactly
    assert np.all(routed < bf16_routed)  # the experts read 4.25-bit weights
    all_rest, all_routed = _layer(shape, "mxfp4", False)  # the old rule: every GEMM weight-only
    assert np.allclose(all_routed, routed, rtol=1e-12, atol=0.0)
    assert np.all(all_rest[:2] < rest[:2])  # decode reads 0.53 B a weight there; at 64 tokens the 0.47-of-bf16 rate
    assert all_rest[2] > rest[2]  # of the weight-only kernels binds on the padded M tile (hG41's side finding)


def test_build_iteration_cost_applies_the_scope_and_its_toggle(monkeypatch: pytest.MonkeyPatch) -> None:
    shape = load_model("gpt-oss-120b")
    dep = Deployment(dtype="mxfp4", engine="vllm", stack="vllm-0.x", token_budget=512, max_batch=8)
    scoped = float(decode_time(build_iteration_cost(shape, H100, FABRIC, dep), 1, 1000))
    scoped_bytes = weight_bytes_per_gpu(shape, 1, 1, "mxfp4")
    monkeypatch.setattr(precision, "CHECKPOINT_SCOPE", False)
    every = float(decode_time(build_iteration_cost(shape, H100, FABRIC, dep), 1, 1000))
    # batch-1 decode reads the weights: the bf16 attention and router (2 B instead of 0.53 B) add time
    assert every < scoped < 1.2 * every
    assert scoped_bytes - weight_bytes_per_gpu(shape, 1, 1, "mxfp4") == pytest.approx(
        36 * (2 * 2880 * 4096 + 2 * 2880 * 512 + 2880 * 128) * (2.0 - 0.53125), rel=1e-12)


def test_a_config_without_quantization_config_is_priced_as_before(tmp_path: Path) -> None:
    config, _ = read_entry("models", "gpt-oss-120b")
    bare = shape_from_hf_config({k: v for k, v in config.items() if k != "quantization_config"}, "oss-bare")
    assert (bare.checkpoint_weight_dtype, bare.checkpoint_weight_scope) == ("", "")
    assert precision.weight_scope(bare, "mxfp4") == "all"
    shape = load_model("gpt-oss-120b")
    ends = 2 * 201088 * 2880 * 2.0
    layers = (weight_bytes_per_gpu(bare, 1, 1, "bf16") - ends) / 2.0
    assert weight_bytes_per_gpu(bare, 1, 1, "mxfp4") == pytest.approx(layers * 0.53125 + ends, rel=1e-12)
    assert weight_bytes_per_gpu(bare, 1, 1, "mxfp4") < weight_bytes_per_gpu(shape, 1, 1, "mxfp4")
    dep = Deployment(dtype="int4", token_budget=256, max_batch=8)
    llama = load_model("llama3-8b")  # no quantization_config: every layer in the --dtype, as before
    assert precision.weight_scope(llama, "int4") == "all" and not llama.checkpoint_weight_dtype
    base = build_iteration_cost(llama, H100, FABRIC, dep)
    assert np.array_equal(base.body_s, build_iteration_cost(llama, H100, FABRIC, dep).body_s)


def test_kimi_k2_int4_keeps_attention_shared_experts_and_the_dense_layer_in_bf16() -> None:
    shape = load_model("kimi-k2.5")  # the INT4 release (hF66: kimi-k2 is Kimi-K2-Instruct's block-fp8 file)
    assert (shape.checkpoint_weight_dtype, shape.checkpoint_weight_scope) == ("int4", "experts")
    from infraplan.ops import params

    routed = float(params.local_expert_params(shape, 8, 1, 1))
    layers = float(params.stage_params_local(shape, 8, 1, 1))
    ends = float(params.end_params_local(shape, 8, 1))
    # 4 bits + one bf16 scale per group of 32 (compressed-tensors group_size 32; vLLM allocates the scales in bf16)
    assert shape.checkpoint_weight_bytes == 0.5 + 2.0 / 32
    assert weight_bytes_per_gpu(shape, 8, 1, "int4") == pytest.approx(routed * 0.5625 + (layers - routed + ends) * 2.0)
    int4 = format_precision.serving_precision(H100, "int4", None, precision.stored_weight_bytes(shape, "int4"))
    assert int4.weight_bytes == 0.5625
    assert weight_bytes_per_gpu(shape, 8, 1, "fp8") == pytest.approx(layers * 1.0 + ends * 2.0)  # another checkpoint
    assert "routed experts only" in weight_format(H100, "int4", shape)


@pytest.mark.parametrize(("quant", "kinds", "expected"), [
    ({"quant_method": "mxfp4", "modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router",
                                                          "model.embed_tokens", "lm_head"]}, MOE, ("mxfp4", "experts")),
    (_int4_groups(ignore=KIMI_IGNORE), ("attention", "dense_mlp", "shared_experts", "routed_experts"),
     ("int4", "experts")),
    (_int4_groups(ignore=["lm_head"]), ("attention", "dense_mlp", "shared_experts", "routed_experts"), ("int4", "all")),
    ({"quant_method": "fp8", "weight_block_size": [128, 128]}, ("attention", "dense_mlp"), ("fp8", "all")),
    ({"quant_method": "modelopt", "quant_algo": "NVFP4", "exclude_modules": ["lm_head", "model.layers.*.self_attn*"]},
     MOE, ("nvfp4", "experts")),
    ({"quant_method": "awq", "bits": 4, "modules_to_not_convert": ["gate"]}, MOE, ("int4", "all")),
])
def test_the_scope_is_read_from_the_module_lists(quant: dict, kinds: tuple[str, ...],
                                                 expected: tuple[str, str]) -> None:
    assert checkpoint_quantization({"quantization_config": quant}, kinds) == (*expected, "")


def test_group_scales_are_read_for_symmetric_integer_groups_only() -> None:
    from infraplan.catalog.model_config_quantization import stored_bytes

    assert stored_bytes(_int4_groups()) == 0.5625
    grouped = _int4_groups()
    grouped["config_groups"]["group_0"]["weights"]["group_size"] = 128
    assert stored_bytes(grouped) == 0.5 + 2.0 / 128
    grouped["config_groups"]["group_0"]["weights"]["symmetric"] = False  # zero points too: not read
    assert stored_bytes(grouped) == 0.0 and stored_bytes({"quant_method": "mxfp4"}) == 0.0


def test_targets_on_the_experts_only_give_the_experts_scope() -> None:
    quant = _int4_groups()
    quant["config_groups"]["group_0"]["targets"] = ["re:.*mlp\\.experts.*"]
    assert checkpoint_quantization({"quantization_config": quant}, MOE)[:2] == ("int4", "experts")


@pytest.mark.parametrize(("quant", "said"), [
    ({"quant_method": "bitsandbytes", "load_in_4bit": True}, "quantization_config (bitsandbytes): a format not"),
    (_int4_groups(ignore=["model.layers.0.self_attn*"]), "attention, attention_output quantised on some layers"),
])
def test_what_is_not_modelled_is_one_warning_and_every_layer_at_the_dtype(quant: dict, said: str) -> None:
    config, _ = read_entry("models", "kimi-k2")
    config = {**config, "quantization_config": quant}
    with pytest.warns(ModelConfigWarning, match="--dtype on every layer") as caught:
        shape = shape_from_hf_config(config, "kimi-what-if")
    assert said in str(caught[0].message) and len(caught) == 1
    assert precision.weight_scope(shape, "int4") == "all"


def test_presets_with_a_checkpoint_scope_load_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelConfigWarning)
        for name in ("gpt-oss-120b", "gpt-oss-20b", "kimi-k2", "kimi-k2.5"):
            config, _ = read_entry("models", name)
            shape_from_hf_config(config, name)


def test_serve_says_when_the_dtype_is_not_the_checkpoints(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["serve", "gpt-oss-20b", "--system", "h100-sxm", "--gpus", "1", "--input-len", "256", "--output-len",
            "16", "--concurrency", "2", "--requests", "4", "--json"]
    assert main([*args, "--dtype", "bf16"]) == 0
    out, err = capsys.readouterr()
    assert "quantization_config (mxfp4) stores mxfp4 weights (the routed experts)" in err
    assert "--dtype bf16" in err and len(err.strip().splitlines()) == 1
    assert main([*args, "--dtype", "mxfp4"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "routed experts only" in json.loads(out)["deployment"]["weight_format"]


def test_the_checkpoints_kv_format_applies_where_the_run_is_in_its_stored_format() -> None:
    from infraplan.serving.kv_default import default_kv_dtype

    shape = load_model("gpt-oss-120b")  # its MXFP4 release names no KV format: the activation dtype
    assert default_kv_dtype(shape, "mxfp4")[0] == "bf16" and shape.checkpoint_kv_dtype == "bf16"
    assert default_kv_dtype(shape, "fp8")[0] == "fp8"  # another checkpoint (a ModelOpt fp8 one), as before the config


@pytest.mark.parametrize("quant", [
    {"quant_method": "compressed-tensors", "config_groups": {"g": {"weights": {"num_bits": [4]}}}},
    {"quant_method": ["x"] * 50},
])
def test_a_hostile_quantization_config_is_read_or_warned_never_a_traceback(quant: dict) -> None:
    config, _ = read_entry("models", "gpt-oss-20b")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelConfigWarning)
        shape = shape_from_hf_config({**config, "quantization_config": quant}, "hostile")
    assert precision.weight_scope(shape, "mxfp4") == "all"  # nothing read keeps the experts-only scope
