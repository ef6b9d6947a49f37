"""hE2 76: train's EP note said "priced ... as 8 domains of 4 ranks: 88 % ... crosses" for DeepEP stacks too (EP32 on
480 GB200 GPUs, 60 a rack), which is NCCL's share; the DeepEP path prices a token once per domain it reaches over
the domains the slowest group really spans (hE76, `cluster.deepep.ep_node_copies`), and the note now says that,
from the same function."""

from __future__ import annotations

from typing import Any

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.cluster.deepep import ep_node_copies
from infraplan.training.estimate import estimate_training


def _ep_notes(stack: str, gpus: int = 480, ep: int = 32) -> list[str]:
    est: Any = estimate_training("deepseek-v3", "gb200-nvl72-superpod", gpus, tp=1, pp=1, ep=ep, micro_batch=2,
                                 zero=3, seq_len=4096, global_batch=gpus * 10, dtype="fp8", stack=stack)
    return [n for n in est.notes if n.startswith("EP ")]


def test_a_deepep_stack_says_the_spans_it_prices() -> None:
    fabric = Cluster.resolve("gb200-nvl72-superpod").placed(480).fabric
    reached, spans = (float(x) for x in ep_node_copies(load_model("deepseek-v3"), fabric, 32, 1))
    (note,) = _ep_notes("deepseek-v3")
    assert f"16 | 16 ranks: a token reaches {reached:.2f} of its {spans:g} domains" in note, note
    assert "1.97 of its 2 domains" in note and "DeepEP's kernels (stack deepseek-v3)" in note
    assert "8 domains of 4" not in note and "88%" not in note


def test_nccls_stack_keeps_its_share() -> None:
    (note,) = _ep_notes("nemo-26.04")  # NeMo's alltoall dispatcher on GB200: NCCL's per-rank share
    assert "as 8 domains of 4 ranks: 88% of each rank's all-to-all crosses the scale-out network" in note


def test_an_aligned_deepep_group_says_its_domains() -> None:
    (note,) = _ep_notes("deepseek-v3", 512, 256)  # 4 whole 64-GPU segments
    assert note.startswith("EP 256 (peers 1 rank apart) is priced over 4 scale-up domains of 72 GPUs, 64 of its")
    assert "a token reaches 3.14 of its 4 domains" in note and "crosses the scale-out network" not in note
