"""The MTP draft layer under EPLB holds the target's ceil((E + R) / EP) expert slots (hL, session 70).

SGLang 0.5.9 builds DeepSeek's NextN layer as a `DeepseekV2DecoderLayer(is_nextn=True)` (models/deepseek_nextn.py:
112-120) whose MoE takes E + R experts from the one global `ep_num_redundant_experts` (models/deepseek_v2.py:420-423);
vLLM 0.12.0 builds its MTP layer with the target's `vllm_config` (v1/spec_decode/eagle.py:969-971), whose EPLB
config sizes the MoE (deepseek_v2.py:276-282). The draft layer was sized on ceil(E / EP) slots.
"""

from __future__ import annotations

import pytest

from infraplan.catalog.loader import load_model
from infraplan.cluster import Cluster
from infraplan.serving.kv_cache import draft_layer_bytes, kv_capacity, weight_bytes_per_gpu


def test_draft_layer_holds_the_redundant_slot() -> None:
    """DeepSeek-V3 fp8 at EP 16 with R = 16: 17 slots a layer, so the draft layer grows by one expert, the same
    expert the target grows by on each of its 58 routed layers."""
    shape = load_model("deepseek-v3")
    one_slot_all = weight_bytes_per_gpu(shape, 1, 1, "fp8", 16, 16) - weight_bytes_per_gpu(shape, 1, 1, "fp8", 16)
    routed_layers = shape.num_layers - 3  # DeepSeek-V3's first 3 layers are dense
    grown = draft_layer_bytes(shape, 1, "fp8", 16, 16) - draft_layer_bytes(shape, 1, "fp8", 16)
    assert grown == pytest.approx(one_slot_all / routed_layers, rel=1e-9) and grown > 4e7


@pytest.mark.parametrize("engine", ["trtllm", "vllm"])
def test_pooled_draft_weights_carry_the_redundant_slot(engine: str) -> None:
    """Engines whose pool gives up the draft's weights (TensorRT-LLM, vLLM): R = 16 at EP 16 adds one expert to
    each of the 58 routed layers and to the draft's, (58 + 1) / 58 of the target's growth."""
    shape, acc = load_model("deepseek-v3"), Cluster.resolve("dgx-h100-superpod").accelerator
    weights = {r: kv_capacity(shape, acc, 1, 1, "fp8", "bf16", 8192, 256, engine=engine, ep=16, draft_layers=1,
                              redundant=r).weights_bytes for r in (0, 16)}
    target = weight_bytes_per_gpu(shape, 1, 1, "fp8", 16, 16) - weight_bytes_per_gpu(shape, 1, 1, "fp8", 16)
    assert weights[16] - weights[0] == pytest.approx(target * 59 / 58, rel=1e-9)
