"""MXFP4 weights without fp4 tensor cores (GPT-OSS on H100 / H200): weight-only W4A16 at 4.25 bits per weight.

vLLM 0.18.0 runs GPT-OSS's MXFP4 experts on SM90 through weight-only kernels (quantization/mxfp4.py:109-173), one
uint8 e8m0 scale per 32 e2m1 values (:318, :397): 0.53125 B per weight. Blackwell keeps the native mxfp4 x mxfp8 path.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.network.collectives import Fabric
from infraplan.serving import routed_experts
from infraplan.serving.deployment import check_deployment, mxfp4_weight_only, weight_format
from infraplan.serving.format_precision import serving_precision
from infraplan.serving.kv_cache import weight_bytes_per_gpu
from infraplan.serving.llm_iteration import (
    Deployment,
    build_iteration_cost,
    decode_time,
    prefill_time,
)
from infraplan.validation import serving_hopper_moe

H100 = load_accelerator("h100-sxm")
B200 = load_accelerator("b200")


def _serve(capsys: pytest.CaptureFixture[str], system: str, dtype: str) -> dict:
    code = main(["serve", "gpt-oss-20b", "--system", system, "--gpus", "1", "--dtype", dtype, "--input-len", "512",
                 "--output-len", "64", "--concurrency", "4", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_cli_serves_mxfp4_on_h100_weight_only_between_int4_and_bf16(capsys: pytest.CaptureFixture[str]) -> None:
    runs = {d: _serve(capsys, "h100-sxm", d) for d in ("bf16", "int4", "mxfp4")}
    weights = {d: r["deployment"]["weights_bytes_per_gpu"] for d, r in runs.items()}
    assert weights["int4"] < weights["mxfp4"] < 0.35 * weights["bf16"]  # embedding and LM head stay bf16
    # the scale bytes, and the attention and router the MXFP4 checkpoint keeps in bf16 (hW41: int4 is every layer)
    assert 0.53125 / 0.5 < weights["mxfp4"] / weights["int4"] < 1.2
    assert runs["mxfp4"]["deployment"]["weight_format"].startswith("mxfp4 weight-only (W4A16")
    tpot = {d: r["tpot_s"]["mean"] for d, r in runs.items()}
    assert tpot["int4"] < tpot["mxfp4"] < tpot["bf16"]  # decode reads the weights


def test_blackwell_keeps_native_mxfp4(capsys: pytest.CaptureFixture[str]) -> None:
    assert not mxfp4_weight_only(B200, "mxfp4") and mxfp4_weight_only(H100, "mxfp4")
    assert not mxfp4_weight_only(H100, "int4")
    native = serving_precision(B200, "mxfp4")
    assert native.act_bytes == pytest.approx(1.0 + 1.0 / 32)  # mxfp8 activations
    assert native.rate > B200.peak("bf16")  # the fp8 rate, not the bf16 one
    assert _serve(capsys, "dgx-b200", "mxfp4")["deployment"]["weight_format"].startswith("mxfp4 native")


def test_weight_only_mxfp4_prices_as_int4_with_the_scale_bytes() -> None:
    mx, int4 = serving_precision(H100, "mxfp4"), serving_precision(H100, "int4")
    assert (mx.rate, mx.act_bytes, mx.grouped_rate) == (int4.rate, int4.act_bytes, int4.grouped_rate)
    assert mx.weight_bytes == 0.53125 and int4.weight_bytes == 0.5
    # a GPT-OSS config without its quantization_config: mxfp4 on every layer, as int4 (hW41: the checkpoint's scope)
    shape = load_model("gpt-oss-120b").model_copy(update={"checkpoint_weight_dtype": "", "checkpoint_weight_scope": ""})
    per_gpu = {d: weight_bytes_per_gpu(shape, 8, 1, d, 8) for d in ("bf16", "int4", "mxfp4")}
    quantised = (per_gpu["bf16"] - per_gpu["int4"]) / (2.0 - 0.5)  # parameters not kept in bf16 (embedding, head)
    assert per_gpu["mxfp4"] - per_gpu["int4"] == pytest.approx(quantised / 32, rel=1e-9)  # one scale byte per 32
    system = load_system("dgx-h100-superpod")
    fabric = Fabric.from_system(system, H100)

    def cost(dtype: str):  # type: ignore[no-untyped-def]
        return build_iteration_cost(shape, H100, fabric, Deployment(dtype=dtype, token_budget=8192))

    mx_cost, int4_cost = cost("mxfp4"), cost("int4")
    assert float(prefill_time(mx_cost, 1, 8192)) == pytest.approx(float(prefill_time(int4_cost, 1, 8192)), rel=0.01)
    assert 1.0 < float(decode_time(mx_cost, 1, 100)) / float(decode_time(int4_cost, 1, 100)) < 1.0625


def test_checks_and_measured_moe_cost_follow_the_weight_only_path() -> None:
    shape = load_model("gpt-oss-120b")
    check_deployment(shape, load_accelerator("a100-80gb"), Deployment(dtype="mxfp4"))  # weight-only anywhere
    with pytest.raises(InputError, match="no nvfp4 support"):
        check_deployment(shape, H100, Deployment(dtype="nvfp4"))
    assert weight_format(H100, "bf16") == "bf16"
    m = np.array([0.0, 1024.0])
    h200 = load_accelerator("h200")
    assert np.array_equal(routed_experts.mxfp4_moe_token_time(shape, h200, "trtllm-0.x", "mxfp4", m),
                          routed_experts.mxfp4_moe_token_time(shape, h200, "trtllm-0.x", "int4", m))
    assert routed_experts.mxfp4_moe_token_time(shape, h200, "trtllm-0.x", "mxfp4", m)[1] > 0.0
    assert routed_experts.mxfp4_moe_token_time(shape, B200, "trtllm-0.x", "mxfp4", m)[1] == 0.0


def test_the_moe_set_serves_gpt_oss_fp4_rows_as_weight_only_mxfp4() -> None:
    assert serving_hopper_moe.PRECISIONS["fp4"] == ("mxfp4", "bf16")
