"""An EP group whose block of ranks does not divide the placement unit is said as crossing a domain edge, not as
spanning N domains (hF, session 57).

DeepSeek-V3 on 576 GB200 (8 full NVL72 racks, placed 72 a rack) at EP 64: blocks of 64 consecutive ranks on
72-GPU domains; the group across an edge keeps gcd(72, 64) = 8 ranks on its smaller side, and `network.placement`
prices that group (88 % of those ranks' all-to-all over the NICs). The note said "EP 64 ... is priced over 8
scale-up domains of 72 GPUs, 8 of its ranks in each": no group spans 8 racks. Checked failing before: the
first test's words are absent on the base tree (the old sentence was given).
"""

from __future__ import annotations

from infraplan.training.estimate import estimate_training

PLAN = dict(seq_len=4096, global_batch=4608, ep=64, zero=3, micro_batch=2, dtype="fp8")


def _ep(system: str) -> list[str]:
    notes = estimate_training("deepseek-v3", system, 576, **PLAN).notes  # type: ignore[arg-type]
    return [n for n in notes if n.startswith("EP 64")]


def test_a_block_across_a_rack_edge_is_said_as_one() -> None:
    (note,) = _ep("gb200-nvl72-superpod")
    assert "its blocks of 64 ranks do not divide the 72-GPU placement unit" in note
    assert "8 of their ranks on one side" in note and "88% of each rank's all-to-all" in note
    assert "scale-up domains of 72 GPUs" not in note


def test_whole_domains_keep_the_domain_count() -> None:
    (note,) = _ep("b200")  # an accelerator preset: 8-GPU nodes, no placement unit: 8 whole domains of 8
    assert note.startswith("EP 64 (peers 1 rank apart) is priced over 8 scale-up domains of 8 GPUs, 8 of its ranks")
