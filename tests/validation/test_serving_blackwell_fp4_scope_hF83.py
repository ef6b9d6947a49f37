"""The Blackwell set's "fp4" MoE rows run their NVIDIA export's published scope (`validation.serving_blackwell`,
`data/fp4_checkpoints.yaml`): attention in bf16; the dense MLP, shared and routed experts nvfp4."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from infraplan.catalog.model_config_quantization import checkpoint_quantization, kind_modules
from infraplan.serving.kv_cache import weight_bytes_per_gpu
from infraplan.validation import serving_blackwell as sb

PUBLISHED = "dense_mlp+shared_experts+routed_experts"


def test_every_export_names_a_checkpoint_of_the_set_and_reads_without_a_split() -> None:
    """Each entry's base checkpoint has a preset, its block reads as nvfp4 with the published scope (no split the
    reader leaves unmodelled), and every fp4 MoE checkpoint of the set but GPT-OSS (its preset stores MXFP4) has one."""
    exports = sb.fp4_checkpoints()
    assert set(exports) == {"deepseek-ai/DeepSeek-R1", "deepseek-ai/DeepSeek-V3", "moonshotai/Kimi-K2.5"}
    for path, spec in exports.items():
        preset = sb.shape({"model_path": path, "precision": "fp8"})
        fmt, scope, _ = checkpoint_quantization({"quantization_config": spec.quantization_config},
                                                kind_modules(preset), spec.export)
        assert (fmt, scope) == ("nvfp4", PUBLISHED), path
    fp4_moe = {r["model_path"] for r in sb.load_rows() if r["precision"] == "fp4" and r["model_path"] in
               sb.serving_hopper_moe.MODELS}
    assert fp4_moe - set(exports) == {"openai/gpt-oss-120b"}


@pytest.mark.parametrize("path", ["deepseek-ai/DeepSeek-R1", "deepseek-ai/DeepSeek-V3", "moonshotai/Kimi-K2.5"])
def test_fp4_rows_take_the_scope_and_other_precisions_keep_the_preset(path: str) -> None:
    fp4 = sb.shape({"model_path": path, "precision": "fp4"})
    assert (fp4.checkpoint_weight_dtype, fp4.checkpoint_weight_scope) == ("nvfp4", PUBLISHED)
    assert sb.weight_formats({"model_path": path, "precision": "fp4"}) == ("nvfp4", "fp8")
    for precision in ("fp8", "int4", ""):
        other = sb.shape({"model_path": path, "precision": precision})
        assert other.checkpoint_weight_dtype != "nvfp4"


def test_gpt_oss_fp4_rows_keep_their_mxfp4_preset() -> None:
    row = {"model_path": "openai/gpt-oss-120b", "precision": "fp4"}
    assert sb.shape(row).checkpoint_weight_dtype == "mxfp4" and sb.weight_formats(row) == ("mxfp4", "bf16")


def test_deepseek_fp4_weights_grow_by_the_bf16_attention_and_router_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    """One GPU (TP1): the published scope stores MLA's projections (q_a 7168 x 1536, q_b 1536 x 128 x 192, kv_a 7168 x
    576, kv_b 512 x 128 x 256, o 128 x 128 x 7168 = 187,105,280 a layer, 61 layers) and the 58 routers (256 x 7168)
    in bf16 instead of nvfp4: (2 - 0.5625) B more each = 16.56 GB."""
    row = {"model_path": "deepseek-ai/DeepSeek-R1", "precision": "fp4"}
    published = weight_bytes_per_gpu(sb.shape(row), 1, 1, "nvfp4")
    monkeypatch.setattr(sb, "PUBLISHED_FP4_SCOPE", False)
    every_linear = weight_bytes_per_gpu(sb.shape(row), 1, 1, "nvfp4")
    by_hand = (61 * 187_105_280 + 58 * 256 * 7168) * (2 - 0.5625)
    assert published - every_linear == pytest.approx(by_hand, rel=1e-6)


def test_an_export_entry_with_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError):
        sb.Fp4Checkpoint(export="x", source="y", quantization_config={}, scope="all")  # type: ignore[call-arg]
