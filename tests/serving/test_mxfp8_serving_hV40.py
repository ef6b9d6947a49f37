"""`serve --dtype mxfp8`: W8A8 MXFP8 (OCP MX, e4m3 with an e8m0 scale per 32 = 1.03125 B an element) on parts whose
catalog lists an mxfp8 peak and engines that run it (SGLang 0.5.9, TensorRT-LLM; not vLLM 0.12.0); hV40.

`ops.precision.SERVING_FORMATS` is the registry; `serving.deployment.format_refusal` the refusal; the weights are
read at the engine's fp8 small-M rate and the GEMMs run at the mxfp8 peak and fraction (`serving_precision`).
"""

from __future__ import annotations

import json
from typing import get_args

import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.cli import main
from infraplan.cli.options import ServeDtype
from infraplan.errors import InputError
from infraplan.network.collectives import Fabric
from infraplan.ops.precision import RECIPES, SERVING_FORMATS
from infraplan.recsys.estimate import compute_dtype
from infraplan.serving.deployment import check_deployment, weight_format
from infraplan.serving.engine_kernels import activation_quant_kernels
from infraplan.serving.format_precision import serving_precision
from infraplan.serving.kv_cache import WEIGHT_DTYPES, weight_bytes_per_gpu
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, decode_time
from infraplan.serving.serve_inputs import gemm_fraction_note
from infraplan.web.requests import ServePlanRequest, ServeRequest

B200 = load_accelerator("b200")
H100 = load_accelerator("h100-sxm")
MTIA400 = load_accelerator("mtia-400")


def _serve(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["serve", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_weight_bytes_per_gpu_hand_computed_at_1_03125_b_per_quantised_weight(
        capsys: pytest.CaptureFixture[str]) -> None:
    # Llama 3 8B (hidden 4096, 32 heads, 8 KV heads of 128, FFN 14336, 32 layers, vocab 128256, untied head)
    h, kv, ffn, layers, vocab = 4096, 8 * 128, 14336, 32, 128256
    quantised = layers * (2 * h * h + 2 * h * kv + 3 * h * ffn)  # QKV, output, gate/up/down: 6,979,321,856
    ends = 2 * vocab * h  # the embedding and the LM head stay bf16
    expected = quantised * (1.0 + 1.0 / 32) + ends * 2.0
    assert expected == 9_298_771_968.0
    assert weight_bytes_per_gpu(load_model("llama3-8b"), 1, 1, "mxfp8") == expected
    code, out, err = _serve(capsys, "llama3-8b", "--system", "dgx-b200", "--gpus", "1", "--dtype", "mxfp8",
                            "--input-len", "512", "--output-len", "64", "--concurrency", "4", "--json")
    assert code == 0, err
    deployment = json.loads(out)["deployment"]
    assert deployment["weights_bytes_per_gpu"] == pytest.approx(expected, rel=1e-12)
    assert deployment["weight_format"].startswith("mxfp8 (W8A8 MXFP8")
    assert deployment["kv_dtype"] == "bf16"  # the KV cache keeps its own default (`serving.kv_default`)


def test_mxfp8_prices_weights_and_activations_with_their_scales_at_the_mxfp8_rate() -> None:
    mx, fp8 = serving_precision(B200, "mxfp8"), serving_precision(B200, "fp8")
    assert mx.weight_bytes == mx.act_bytes == 1.03125
    assert mx.rate == pytest.approx(B200.peak("mxfp8") * B200.efficiency.matmul_max_fraction["mxfp8"])
    assert mx.rate == RECIPES["mxfp8"].gemm_flops_per_s(B200)  # the training recipe's rate: one figure
    assert fp8.weight_bytes == 1.0
    gb200 = load_accelerator("gb200")  # its own measured mxfp8 fraction (0.55) differs from fp8's (0.52)
    assert serving_precision(gb200, "mxfp8").rate > serving_precision(gb200, "fp8").rate
    mi355x = load_accelerator("mi355x")  # mxfp8 peak, no mxfp8 fraction: fp8's, and said
    mi355x_rate = serving_precision(mi355x, "mxfp8").rate
    assert mi355x_rate == pytest.approx(mi355x.peak("mxfp8") * mi355x.matmul_fraction("fp8"))
    assert "measured fp8 fraction" in (gemm_fraction_note(mi355x, "mxfp8") or "")
    assert gemm_fraction_note(B200, "mxfp8") is None and gemm_fraction_note(mi355x, "fp8") is None


def test_decode_tpot_between_fp8_and_bf16_on_b200_when_memory_bound() -> None:
    shape = load_model("llama3-70b")
    fabric = Fabric.from_system(load_system("dgx-b200"), B200)

    def step_s(dtype: str) -> float:
        cost = build_iteration_cost(shape, B200, fabric, Deployment(tp=8, dtype=dtype, token_budget=8192))
        return float(decode_time(cost, 4, 2000))  # 4 sequences: the weight reads bind

    tpot = {d: step_s(d) for d in ("bf16", "fp8", "mxfp8")}
    assert tpot["fp8"] < tpot["mxfp8"] < tpot["bf16"]
    assert tpot["mxfp8"] - tpot["fp8"] < 0.1 * (tpot["bf16"] - tpot["fp8"])  # 1/32 more bytes than fp8, not 2x


def test_h100_refuses_mxfp8_in_one_line_naming_what_it_runs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _serve(capsys, "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--dtype", "mxfp8",
                            "--input-len", "512", "--output-len", "64", "--concurrency", "4")
    assert code == 2 and out == ""
    line = err.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "h100-sxm has no mxfp8 support" in line and "use bf16, fp8, int8, or the weight-only int4 or mxfp4" in line
    code = main(["serve-plan", "llama3-8b", "--system", "dgx-h100-superpod", "--rate", "1", "--workload", "chat",
                 "--dtypes", "mxfp8"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "runs none of them" in err


def test_engines_without_mxfp8_refuse_it(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["serve-plan", "llama3-8b", "--system", "dgx-b200", "--rate", "1", "--workload", "chat",
                 "--dtypes", "mxfp8", "--stack", "vllm-0.x"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "the vllm engine does not run mxfp8" in err and "use bf16, fp8," in err
    shape = load_model("llama3-8b")
    check_deployment(shape, B200, Deployment(dtype="mxfp8", engine="sglang", stack="sglang-0.x"))
    check_deployment(shape, B200, Deployment(dtype="mxfp8"))  # TensorRT-LLM
    with pytest.raises(InputError, match=r"vllm engine does not run mxfp8 .* use bf16, fp8, int8, nvfp4, mxfp4"):
        check_deployment(shape, B200, Deployment(dtype="mxfp8", engine="vllm", stack="vllm-0.x"))
    moe = load_model("qwen3-30b-a3b")  # SGLang's MXFP8 experts: cutlass MoE at EP 1 only
    check_deployment(moe, B200, Deployment(tp=2, dtype="mxfp8", engine="sglang", stack="sglang-0.x"))
    with pytest.raises(InputError, match="asserts EP 1"):
        check_deployment(moe, B200, Deployment(tp=2, ep=2, dtype="mxfp8", engine="sglang", stack="sglang-0.x"))
    # SGLang quantises each mxfp8 linear's input in its own kernel, as for fp8
    assert activation_quant_kernels(shape, "sglang", "mxfp8") == activation_quant_kernels(shape, "sglang", "fp8") > 0


def test_mtia_400_runs_mxfp8_not_an_int8_stand_in() -> None:
    shape = load_model("llama3-70b")
    check_deployment(shape, MTIA400, Deployment(tp=8, dtype="mxfp8"))
    with pytest.raises(InputError, match=r"use bf16, int8, mxfp8, mxfp4 \(native\), or"):  # native there (hU56)
        check_deployment(shape, MTIA400, Deployment(tp=8, dtype="fp8"))
    mx = serving_precision(MTIA400, "mxfp8")
    assert mx.rate == pytest.approx(5380e12 * 0.55) and mx.weight_bytes == 1.03125  # its own mxfp8 fraction
    assert weight_format(MTIA400, "mxfp8").startswith("mxfp8 (W8A8")
    assert compute_dtype(MTIA400, "fp8") == "mxfp8"  # a ranking model's fp8 GEMMs: MX8, the part's 8-bit float
    assert compute_dtype(B200, "fp8") == "fp8"


def test_one_registry_feeds_serve_serve_plan_and_the_web() -> None:
    assert tuple(SERVING_FORMATS) == WEIGHT_DTYPES and "mxfp8" in WEIGHT_DTYPES
    assert set(get_args(ServeDtype)) == set(WEIGHT_DTYPES)
    assert ServeRequest(model="llama3-8b", system="dgx-b200", gpus=1, dtype="mxfp8").dtype == "mxfp8"
    plan = ServePlanRequest(model="llama3-8b", system="dgx-b200", rate=1.0, workload="chat",
                            dtypes=list(WEIGHT_DTYPES))
    assert plan.dtypes == list(WEIGHT_DTYPES)
