"""The bytes of a routed layer's routing kernels (hK, session 34): the bf16 router logits read once by the fused
top-k, its fp32 weights and int32 ids written and read once, the activations in and out."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model
from infraplan.hardware.kernels import KernelRates
from infraplan.serving import routed_experts


def test_routing_bytes_per_token_are_logits_topk_outputs_and_activations() -> None:
    """DeepSeek-V3 (E 256, k 8, h 7,168; 58 of 61 layers routed), no local routed copies (local_fraction 0):
    2 x 256 (bf16 logits) + 16 x 8 (weights and ids) + 2 x 2 x 7,168 (activations in and out) = 29,312 B a token,
    so 1,000 more tokens add 58/61 x 29.312 MB at the memory rate (8 B a logit would give 30,720 B)."""
    rates = KernelRates.for_dtype(load_accelerator("h200"), "bf16")
    shape = load_model("deepseek-v3")
    t = routed_experts.moe_routing_time(shape, rates, np.array([1000.0, 2000.0]), 0.0)
    assert (t[1] - t[0]) == pytest.approx(58 / 61 * 1000 * 29_312 / rates.memory_bytes_per_s, rel=1e-9)

