"""GPTQ / AWQ checkpoints hold their group scales (and an asymmetric checkpoint its zero points) beside the 4 bits.

vLLM 0.18.0 gptq.py / awq.py `create_weights`: `scales` [in / group, out] in fp16, `qzeros` [in / group, out / 8] int32
(4 bits per zero); Marlin drops a symmetric checkpoint's zeros on loading. By hand, groups of 128: 0.5 + 2 / 128 B per
weight symmetric, 0.5 + 2.5 / 128 asymmetric; per-channel (group_size -1) stays at the format's 0.5 B.
"""

from __future__ import annotations

import pytest

from infraplan.catalog.model_config_quantization import stored_bytes


@pytest.mark.parametrize(("quant", "width"), [
    ({"quant_method": "gptq", "bits": 4, "group_size": 128, "sym": True}, 0.5 + 2 / 128),
    ({"quant_method": "gptq", "bits": 4, "group_size": 128, "sym": False}, 0.5 + 2.5 / 128),
    ({"quant_method": "GPTQ", "bits": 8, "group_size": 64, "sym": True}, 1.0 + 2 / 64),
    ({"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": True}, 0.5 + 2.5 / 128),
    ({"quant_method": "awq", "w_bit": 4, "q_group_size": 128, "zero_point": False}, 0.5 + 2 / 128),
    ({"quant_method": "gptq", "bits": 4, "group_size": -1, "sym": True}, 0.0),
    ({"quant_method": "fp8"}, 0.0),
])
def test_a_grouped_integer_checkpoint_holds_its_scales(quant: dict, width: float) -> None:
    assert stored_bytes(quant) == pytest.approx(width, rel=1e-12)
