"""The JSON says when ZeRO-3's weights took the lone-shard rule (hV71, review of hW71).

hW71's `Stack.zero3_gathers_lone_shards` (false on nemo-26.04, Megatron-FSDP) holds a parameter group of one rank
once, not again in the two gathered layers: Mixtral 8x7B TP8 PP2 EP4 DP4 ZeRO-3 weights 1,656,946,688 ->
1,480,785,920 B. The answer said nothing of it (its notes and fields named only the stack), so a user comparing
ZeRO-2 and ZeRO-3 saw 176 MB go with no reason. `state_memory.lone_shard_notes` now says it, in `train`'s notes
(`plan_notes.stack_plan_notes`: the CLI, web, API and the sweep's batched train), only where the rule moves the
weights.
"""

from __future__ import annotations

import pytest

from infraplan.training import estimate_training

MIXTRAL = {"gpus": 64, "tp": 8, "pp": 2, "seq_len": 8192, "global_batch": 64, "micro_batch": 2}
LLAMA = {"gpus": 8, "tp": 8, "seq_len": 4096, "global_batch": 8}


def _said(model: str, **plan: object) -> list[str]:
    r = estimate_training(model, "dgx-h100-superpod", **plan)  # type: ignore[arg-type]
    return [n for n in r.notes if "zero3_gathers_lone_shards" in n]


def test_experts_at_expert_dp_one_are_said() -> None:
    [note] = _said("mixtral-8x7b", ep=4, zero=3, **MIXTRAL)
    assert note.startswith("ZeRO-3 on nemo-26.04: the routed experts (expert-DP 1) shard over one rank")
    assert "dense" not in note  # DP x CP 4 gathers the dense part as before


def test_dense_weights_at_dp_one_are_said() -> None:
    [note] = _said("llama3-8b", zero=3, **LLAMA)
    assert "the dense weights (DP x CP 1)" in note and "routed" not in note


@pytest.mark.parametrize(("model", "plan"), [
    ("mixtral-8x7b", {"ep": 2, "zero": 3, **MIXTRAL}),  # expert-DP 2: gathered as before
    ("mixtral-8x7b", {"ep": 4, "zero": 2, **MIXTRAL}),  # not ZeRO-3
    ("llama3-8b", {"zero": 3, "stack": "torchtitan", **LLAMA}),  # FSDP2: the rule is not read
    ("llama3-8b", {"zero": 3, **{**LLAMA, "gpus": 16}}),  # DP 2
])
def test_no_line_where_the_rule_moves_nothing(model: str, plan: dict[str, object]) -> None:
    assert _said(model, **plan) == []
