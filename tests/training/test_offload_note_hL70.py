"""`--offload-layers` notes say what each stack and plan does with CUDA graphs (hL, session 70).

The note said "Megatron-Core refuses them" on any graphed stack, torchtitan's included, and on plans the stack does
not graph (torchtitan 0.3.0 graphs only PP 1, EP 1: `training.cuda_graph_rule`).
"""

from __future__ import annotations

from infraplan.catalog.loader import load_model
from infraplan.catalog.stacks import resolve_stack
from infraplan.training.activation_offload import with_offload
from infraplan.training.estimate import resolve_training


def test_megatron_stack_cites_its_rule() -> None:
    stack = resolve_stack("nemo-26.04", "training").model_copy(update={"cuda_graphs": True})
    offloading, notes = with_offload(load_model("llama3-70b"), stack, 40, 1, "none")
    assert offloading.cuda_graphs is False
    graphs = [n for n in notes if n.startswith("CUDA graphs off")]
    assert len(graphs) == 1 and "Megatron-Core refuses them" in graphs[0] and "1722-1723" in graphs[0]
    assert not any("not known" in n for n in notes)


def test_torchtitan_graphed_plan_says_the_rule_is_megatrons_not_its_own() -> None:
    stack = resolve_stack("torchtitan", "training")
    _, notes = with_offload(load_model("llama3-8b"), stack, 4, 1, "none", ep=1)
    graphs = [n for n in notes if n.startswith("CUDA graphs off")]
    assert len(graphs) == 1 and "Megatron-Core refuses" not in graphs[0] and "not known" in graphs[0]
    assert any("offloads no layer's activations" in n and "configs.py:61-64" in n for n in notes)


def test_torchtitan_ungraphed_plan_has_no_graphs_note() -> None:
    """EP 8 on torchtitan runs eager (`cuda_graphs_when: max_ep 1`): nothing to turn off."""
    point = resolve_training("mixtral-8x7b", "dgx-h100-superpod", 8, ep=8, seq_len=4096, global_batch=64,
                             offload_layers=4, stack="torchtitan")
    assert not any(n.startswith("CUDA graphs off") for n in point.notes)
    assert any("offload of 4 of 32" in n for n in point.notes)
