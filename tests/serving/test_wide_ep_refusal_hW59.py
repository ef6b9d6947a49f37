"""A wide-EP layout refused says which of the three rules it breaks (hW59): `serve mixtral-8x7b --gpus 16
--attention-dp 16 --ep 16` read the whole rule ("EP x MoE TP = attention DP x TP, EP <= its experts, MoE TP dividing
its expert width") with no word of which part failed (EP 16 above Mixtral's 8 experts)."""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.serving.serving_api import estimate_serving

FIXED = dict(offline=True, input_len=1000, output_len=1000)


def test_ep_above_the_experts_is_named() -> None:
    with pytest.raises(InputError, match=r"\(8 experts of 14336\): EP 16 above its 8 experts$"):
        estimate_serving("mixtral-8x7b", "dgx-h100-superpod", 16, attention_dp=16, ep=16, **FIXED)  # type: ignore[arg-type]


def test_two_broken_rules_are_both_named() -> None:
    with pytest.raises(InputError, match=r": EP 144 x MoE TP 1 = 144, not 72; EP 144 above its 128 experts$"):
        estimate_serving("qwen3-30b-a3b", "gb200-nvl72", 72, attention_dp=72, ep=144, dtype="fp8",
                         **FIXED)  # type: ignore[arg-type]
