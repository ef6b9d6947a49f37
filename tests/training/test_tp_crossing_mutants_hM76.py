"""hM76 mutation wave on hW76's `training.plan_notes.tp_crossing_notes`: a block as large as the domain, and a CP
group whose members on one side of the edge do not divide it."""

from __future__ import annotations

from infraplan.training.plan_notes import tp_crossing_notes


def test_a_block_of_a_whole_domain_across_a_unit_edge_is_said() -> None:
    """TP 72 on GB200 NVL72 with 60-GPU Slurm segments: a block of 72 fits the 72-GPU domain, does not divide 60;
    gcd(60, 72) = 12 ranks on one side, priced as ceil(72 / 12) = 6 domains of 12."""
    notes = tp_crossing_notes(72, 60, 72)
    assert len(notes) == 1 and notes[0].startswith("TP 72: its blocks of 72 ranks do not divide the 60-GPU placement")
    assert "with 12 of their ranks on one side; priced at that group, as 6 domains of 12 ranks" in notes[0]


def test_cp_members_on_a_side_round_the_domains_up() -> None:
    """TP 4 CP 5 on a 30-GPU unit: CP blocks of 20 ranks, gcd(30, 20) = 10 of them on one side, floor(10 / 4) = 2
    CP members (4 ranks apart); 5 members in domains of 2 take ceil(5 / 2) = 3 domains, not 2."""
    cp = [n for n in tp_crossing_notes(4, 30, 72, cp=5) if n.startswith("CP ")]
    assert len(cp) == 1 and cp[0].startswith("CP 5 (4 ranks apart): its blocks of 20 ranks")
    assert "with 2 of their ranks on one side; priced at that group, as 3 domains of 2 ranks" in cp[0]
