"""Coverage wave hM15 (session 42): SGLang's default `mem_fraction_static` on GPU-memory tiers no test priced.

Each value is SGLang's rule as the module docstring quotes it (0.5.1.post1 server_args.py:366-389; 0.5.6.post2
server_args.py:728-889), computed here by hand: fraction = round((gpu - reserved) / gpu, 3), both in MiB."""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.serving.sglang_memory import FALLBACK_FRACTION, mem_fraction_static

GIB = 2.0**30


@pytest.mark.parametrize(("gib", "tp", "dp", "fraction"), [
    # below 35 GiB: reserved (2.8 + p / 10) GiB; 24 GiB at TP1: 2.9 -> 21.1 / 24 = 0.8792
    (24, 1, 1, 0.879),
    # TP4 on 24 GiB: 3.2 GiB -> 20.8 / 24 = 0.8667
    (24, 4, 1, 0.867),
    # at and above 160 GiB: 32 GiB; 180 GiB: 148 / 180 = 0.8222
    (180, 8, 1, 0.822),
    # DP attention adds 4 GiB: 144 / 180 = 0.8
    (180, 8, 2, 0.8),
    (160, 1, 1, 0.8),  # the tier's edge: 160 GiB is "above" (128 / 160)
])
def test_sglang_051_reserved_memory_by_tier(gib: float, tp: int, dp: int, fraction: float) -> None:
    assert mem_fraction_static("sglang-0.5.1", gib * GIB, tp, 1, dp) == fraction


@pytest.mark.parametrize(("gib", "tp", "fraction"), [
    # 16 GiB: chunk 2,048 (x 1.5 MiB), graph batch 8 (x 2 MiB): 512 + 3,072 + 16 + 128 = 3,728 MiB of 16,384: 0.7725
    (16, 1, 0.772),
    # 24 GiB at TP1: graph batch 24: 512 + 3,072 + 48 + 128 = 3,760 MiB of 24,576: 0.8470
    (24, 1, 0.847),
    # 24 GiB at TP4: graph batch 80: 512 + 3,072 + 160 + 512 = 4,256 MiB: 0.8268
    (24, 4, 0.827),
    # 48 GiB at TP1: chunk 4,096, graph batch 32: 512 + 6,144 + 64 + 128 = 6,848 MiB of 49,152 (no 10 GiB floor at
    # 60 GiB or less): 0.8607
    (48, 1, 0.861),
    # 180 GiB at TP8: chunk 16,384, graph batch 512: 512 + 24,576 + 1,024 + 1,024 = 27,136 MiB of 184,320: 0.8528
    (180, 8, 0.853),
])
def test_sglang_056_reserved_memory_by_tier(gib: float, tp: int, fraction: float) -> None:
    assert mem_fraction_static("sglang-0.5.6", gib * GIB, tp) == fraction


def test_unknown_memory_and_rule() -> None:
    assert mem_fraction_static("sglang-0.5.6", 0.0, 1) == FALLBACK_FRACTION == 0.88
    with pytest.raises(InputError, match="is not an SGLang rule"):
        mem_fraction_static("vllm", 80 * GIB, 1)  # type: ignore[arg-type]
