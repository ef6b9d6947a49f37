"""hI72 mutation wave on hW71's stack refusal: a file extending a stack drops the parent's `cuda_graphs_when` only
where it sets `cuda_graphs: false` itself; a child that says nothing of graphs keeps the parent's rule (torchtitan
0.3.0 graphs only PP 1 and EP 1 plans), whatever else it changes."""

from __future__ import annotations

from pathlib import Path

from infraplan.catalog.stacks import load_stack


def test_a_child_silent_on_graphs_keeps_the_parents_rule(tmp_path: Path) -> None:
    parent = load_stack("torchtitan")
    assert parent.cuda_graphs and parent.cuda_graphs_when is not None
    child = tmp_path / "tt-child.yaml"
    child.write_text("extends: torchtitan\nname: tt-child\nfused_cross_entropy: false\n")
    stack = load_stack(str(child))
    assert stack.cuda_graphs and not stack.fused_cross_entropy
    assert stack.cuda_graphs_when == parent.cuda_graphs_when
