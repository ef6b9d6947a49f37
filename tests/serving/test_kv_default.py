"""The KV-cache dtype a serving run takes without --kv-dtype (serving/kv_default.py): the engines' "auto" follows the
checkpoint's quantization config, else fp8 for ModelOpt-style fp8 / nvfp4 weights, else the activation dtype."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.serving.kv_default import default_kv_dtype


@pytest.mark.parametrize(("dtype", "kv"), [("bf16", "bf16"), ("fp8", "fp8"), ("nvfp4", "fp8"), ("int4", "bf16")])
def test_a_preset_without_a_quantization_config_follows_its_weights(dtype: str, kv: str) -> None:
    shape = load_model("llama3-8b")
    assert not shape.checkpoint_kv_dtype  # the preset is the bf16 original
    got, why = default_kv_dtype(shape, dtype)
    assert got == kv and why.startswith("kv_cache_dtype auto")


def test_a_checkpoint_that_names_its_kv_dtype_wins_over_the_weights() -> None:
    shape = load_model("llama3-8b").model_copy(update={"checkpoint_kv_dtype": "bf16"})
    got, why = default_kv_dtype(shape, "nvfp4")  # rule 1 before rule 2
    assert got == "bf16" and "quantization_config names no fp8 KV cache, so the activation dtype, bf16" in why
