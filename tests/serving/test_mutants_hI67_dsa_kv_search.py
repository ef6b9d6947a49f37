"""hI67 mutation wave on hF66's per-part KV default for a DeepSeek Sparse Attention model: serve-plan takes it as
`serve` does. SGLang sets a DSA model's "auto" cache by the GPU, fp8_e4m3 from compute capability 10 (Blackwell), else
bfloat16 (sglang 0.5.23 srt/arg_groups/overrides.py:533-535); vLLM 0.18.0 overrides nothing for it (model_executor/
models/config.py:30-42), so DeepSeek-V3.2's block-fp8 file (no KV format in its quantization_config) keeps bf16.
hF66's tests read `serve`'s answer; serve-plan's candidates and its chosen deployment (`capacity_space.kv_for`) were
not seen.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.serving.capacity import search_capacity
from infraplan.serving.capacity_space import kv_for


@pytest.mark.parametrize(("engine", "part", "kv"), [("sglang", "b200", "fp8"), ("sglang", "h200", "bf16"),
                                                     ("vllm", "b200", "bf16")])
def test_the_search_candidates_kv_is_the_engines_on_the_part(engine: str, part: str, kv: str) -> None:
    assert kv_for(load_model("deepseek-v3.2"), "fp8", None, engine, part) == kv
    assert kv_for(load_model("deepseek-v3.2"), "fp8", "bf16", engine, part) == "bf16"  # as given


def test_serve_plan_on_sglang_blackwell_answers_an_fp8_cache() -> None:
    plan = search_capacity("deepseek-v3.2", "dgx-b200", 1.0, input_len=512, output_len=64, ttft_slo=10.0,
                           tpot_slo=1.0, dtypes=("fp8",), batch_caps=(16,), requests=40, disaggregation=False,
                           stack="sglang-0.x")
    assert plan.deployment is not None and plan.deployment.kv_dtype == "fp8"
