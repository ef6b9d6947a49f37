"""hW (session 76): a TP or CP group that fits a scale-up domain but not its placement unit crosses a domain edge, said.

Ranks are numbered TP innermost (`network.placement`), so on 8-GPU H100 nodes TP 6 groups 6..11 and 12..17 straddle
node edges; the pricing takes the slowest group (`network.fabric.group_domain`: gcd(8, 6) = 2 ranks a side, 3 domains):
megatron-145.6b TP 6 PP 8 on 96 H100 paid 0.477 s of TP collectives a step against TP 4's 0.093, and neither `train`
nor `search` said why (TP beyond a domain, and EP across a placement unit's edge, were said); CP groups (ranks TP
apart) the same: llama3-8b TP 2 CP 3 on 48 H100 paid 0.150 s of CP ring a step against CP 4's 0.046. Now one note a
group (`training.plan_notes.tp_crossing_notes`), in `train` and in `search` of its best plan, as `train` says it.
"""

from __future__ import annotations

import shlex

import pytest

from infraplan.training.estimate import estimate_training
from infraplan.training.plan_notes import tp_crossing_notes
from infraplan.training.search import search_plans

H100 = "dgx-h100-superpod"
NOTE = ("TP 6: its blocks of 6 ranks do not divide the 8-GPU placement unit, so some TP groups cross a scale-up domain "
        "edge with 2 of their ranks on one side; priced at that group, as 3 domains of 2 ranks, its collectives over "
        "the scale-out network (network.placement): a block dividing 8 keeps every group inside one domain")


def _train(tp: int, gpus: int = 96, pp: int = 8):
    return estimate_training("megatron-145.6b", H100, gpus, tp=tp, pp=pp, vpp=1, seq_len=2064, global_batch=96)


def test_train_says_a_tp_group_across_a_node_edge() -> None:
    six, four = _train(6), _train(4)
    assert NOTE in six.notes
    assert six.breakdown_s.tp_comm > 4.0 * four.breakdown_s.tp_comm  # what the note explains
    assert not any(n.startswith("TP ") for n in four.notes)
    assert not any(n.startswith("TP ") for n in _train(6, gpus=6, pp=1).notes)  # one node: every group inside


def test_the_rule_by_hand() -> None:
    assert tp_crossing_notes(6, 8, 8) == [NOTE]
    assert tp_crossing_notes(4, 8, 8) == []  # divides the unit
    assert tp_crossing_notes(6, 0, 8) == []  # a job inside one domain
    assert tp_crossing_notes(12, 8, 8) == []  # beyond the domain: request_notes' line
    assert "with 4 of their ranks on one side; priced at that group, as 2 domains of 4 ranks" in \
        tp_crossing_notes(8, 20, 72, "GPU")[0]  # GB200 at 100 GPUs: Slurm segments of 5 trays


def test_search_says_it_of_its_best_plan_as_train_does() -> None:
    found = search_plans("megatron-145.6b", H100, 36, seq_len=2064, global_batch=144, dtype="fp8", top=1)
    assert found.best is not None and found.best.config.tp == 6
    assert NOTE in found.notes
    words = shlex.split(found.best.train_command)
    assert words[words.index("--tp") + 1] == "6"


@pytest.mark.parametrize("tp", [3, 6])
def test_the_note_names_the_plan(tp: int) -> None:
    notes = _train(tp).notes
    assert any(n.startswith(f"TP {tp}: its blocks of {tp} ranks do not divide the 8-GPU placement unit") for n in notes)


def test_a_cp_group_across_a_node_edge() -> None:
    def cp(n: int):
        return estimate_training("llama3-8b", H100, 48, tp=2, cp=n, seq_len=12288, global_batch=48)
    three, four = cp(3), cp(4)
    line = ("CP 3 (2 ranks apart): its blocks of 6 ranks do not divide the 8-GPU placement unit, so some CP groups "
            "cross a scale-up domain edge with 1 of their ranks on one side; priced at that group, as 3 domains of 1 "
            "rank, its collectives over the scale-out network (network.placement): a block dividing 8 keeps every "
            "group inside one domain")
    assert line in three.notes
    assert three.breakdown_s.cp_comm > 3.0 * four.breakdown_s.cp_comm
    assert not any(n.startswith(("TP ", "CP ")) for n in four.notes)
    assert [n.split(":")[0] for n in tp_crossing_notes(3, 8, 8, cp=2)] == ["TP 3"]  # the TP line says it
    assert tp_crossing_notes(2, 8, 8, cp=6) == []  # a CP block beyond the domain spans domains by design
