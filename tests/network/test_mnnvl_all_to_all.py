"""GB200's measured NVL72 all-to-all rate for the flex dispatchers' scale-up leg
(`network.nvlink_collectives`, formerly `network.mnnvl_all_to_all`)."""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.network import nvlink_collectives
from infraplan.training.estimate import estimate_training


def test_table_rates_against_the_catalog_rate() -> None:
    eff = nvlink_collectives.mnnvl_all_to_all_efficiency("gb200", [16, 32, 64, 128])
    assert eff is not None
    assert eff[:3] == pytest.approx([450.5 / 720.0, 483.8 / 720.0, 454.4 / 720.0], rel=1e-9)
    assert eff[3] == eff[2]  # held beyond the table
    assert nvlink_collectives.mnnvl_all_to_all_efficiency("h100-sxm", [8]) is None


def test_hybridep_inside_nvl72_moves_at_the_measured_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    base = load_stack("nemo-26.04")
    stack = base.model_copy(update={"moe": base.moe.model_copy(update={"flex_backend": "hybridep"})})
    plan = dict(tp=1, pp=1, ep=32, seq_len=4096, global_batch=64, micro_batch=1, dtype="mxfp8",
                order="tp-cp-dp-pp", recompute="none")
    on = estimate_training("qwen3-30b-a3b", "gb200-nvl72", 32, stack=stack, **plan)
    monkeypatch.setattr(nvlink_collectives, "MEASURED_MNNVL_ALL_TO_ALL", False)
    off = estimate_training("qwen3-30b-a3b", "gb200-nvl72", 32, stack=stack.model_copy(), **plan)  # a new memo key
    assert on.breakdown_s.ep_comm == pytest.approx(off.breakdown_s.ep_comm * 720.0 / 483.8, rel=1e-6)
    assert on.breakdown_s.compute == off.breakdown_s.compute
