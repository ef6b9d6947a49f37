"""hM77 mutation wave on hE2 76's EP note (`training.moe_notes.deepep_clause`): a stack whose recipe's flex backend
Megatron-Bridge keeps on the accelerator (`expert_dispatch.with_flex_dispatcher`) is priced on the DeepEP path and
said so, in its kernels' name; hE2 76's tests read `dispatcher: deepep` stacks only."""

from __future__ import annotations

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.training.moe_notes import moe_notes


def _ep_note(flex_backend: str | None) -> str:
    base = load_stack("nemo-26.04")
    stack = base.model_copy(update={"moe": base.moe.model_copy(update={"flex_backend": flex_backend})})
    fabric = Cluster.resolve("gb200-nvl72-superpod").placed(480).fabric  # 60 GPUs a rack: EP32 straddles
    (note,) = [n for n in moe_notes(load_model("deepseek-v3"), stack, fabric, 32, 1, 480) if n.startswith("EP ")]
    return note


def test_a_hybridep_recipe_on_gb200_says_its_kernels_and_their_copies() -> None:
    """HybridEP runs on GB200 (the stack's hybridep_accelerators): a token once per domain reached, 16 | 16."""
    note = _ep_note("hybridep")
    assert "HybridEP's kernels (stack nemo-26.04) send a token once per domain it reaches" in note, note
    assert "16 | 16 ranks" in note and "88%" not in note


def test_a_deepep_recipe_on_gb200_keeps_ncclss_share() -> None:
    """DeepEP does not run on GB200 under Megatron-Bridge (not in deepep_accelerators): alltoall, NCCL's share."""
    note = _ep_note("deepep")
    assert "as 8 domains of 4 ranks: 88% of each rank's all-to-all crosses the scale-out network" in note, note
    assert "kernels" not in note
