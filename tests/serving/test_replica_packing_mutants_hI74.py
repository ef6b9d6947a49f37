"""Mutation wave hI74 on `serving.replica_packing` (session 73): what a deployment holds on its scale-up domains.

A replica's stage group is TP x attention DP accelerators inside one domain (module docstring), so an attention-DP
layout strands a domain as a TP group of the same size does: 2 replicas of TP 1 x attention DP 6 on 8-GPU nodes sit
one a node (a second group on GPUs 6-11 would straddle two nodes), 12 GPUs holding 16. A mutant placing TP alone
(units of 1: nothing stranded) lived.
"""

from __future__ import annotations

import warnings

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.deployment import Deployment
from infraplan.serving.engines import load_engine
from infraplan.serving.replica_packing import held_field, held_gpus, idle_note, stage_unit
from infraplan.serving.serve_inputs import auto_tp


def test_attention_dp_ranks_are_part_of_the_group_a_domain_holds() -> None:
    wide = Deployment(tp=1, ep=6, attention_dp=6, replicas=2)
    assert wide.gpus == 12 and stage_unit(wide) == 6
    assert held_gpus([wide], 8) == 16  # one group of 6 a node, 2 idle each
    assert held_field(held_gpus([wide], 8), wide.gpus) == {"gpus_held": 16}
    note = idle_note([wide], 8, "GPU") or ""
    assert "TP 1 x attention DP 6: a domain holds 1 group of 6 and leaves 2 idle" in note
    assert "the replicas' 12 GPUs hold 16, 4 idle" in note
    # the same 6 GPUs a group as TP 2 x attention DP 3; and TP 2 x attention DP 4 fills a node
    assert held_gpus([Deployment(tp=2, ep=6, attention_dp=3, replicas=3)], 8) == 3 * 8  # a node each
    assert held_gpus([Deployment(tp=2, ep=8, attention_dp=4, replicas=3)], 8) == 24
    assert idle_note([Deployment(tp=2, ep=8, attention_dp=4, replicas=3)], 8, "GPU") is None


def test_a_disaggregated_pairs_pools_of_one_unit_pack_together() -> None:
    """Prefill and decode pools of TP 3 on 8-GPU nodes: their groups share nodes, 2 a node (`held_gpus`: pools of
    one unit pack together). 3 + 3 replicas = 6 groups = 3 full nodes, 24 held; packed pool by pool it would be
    (8 + 3) x 2 = 22, a node's 2 idle counted twice as free (a mutant packing each pool alone lived)."""
    prefill, decode = Deployment(tp=3, replicas=3), Deployment(tp=3, replicas=3)
    assert held_gpus([prefill, decode], 8) == 24
    one_each = [Deployment(tp=3, replicas=1), Deployment(tp=3, replicas=1)]
    assert held_gpus(one_each, 8) == 8  # both groups in one node
    # units that differ pack apart: TP 3 (3 groups: 8 + 3) beside TP 6 (2 groups: a node each)
    assert held_gpus([prefill, Deployment(tp=6, replicas=2)], 8) == 11 + 16


def test_the_note_counts_what_a_domain_leaves_after_all_its_groups() -> None:
    """TP 3 on 8-GPU nodes: 2 groups a node, 8 - 2 x 3 = 2 idle (not 8 - 3 = 5: a mutant lived, since at TP 6 and
    TP 5 the two agree); 3 replicas hold a full node and one group, 8 + 3 = 11."""
    note = idle_note([Deployment(tp=3, replicas=3)], 8, "GPU") or ""
    assert "TP 3: a domain holds 2 groups of 3 and leaves 2 idle" in note
    assert "the replicas' 9 GPUs hold 11, 2 idle" in note
    note72 = idle_note([Deployment(tp=16, replicas=5)], 72, "GPU") or ""  # NVL72: 4 groups of 16, 8 idle
    assert "TP 16: a domain holds 4 groups of 16 and leaves 8 idle" in note72 and "hold 88, 8 idle" in note72


def test_tp_auto_says_what_a_stranding_tp_holds() -> None:
    """megatron-145.6b fp8 on 6 H100s (vLLM): TP 3 is the smallest leaving >= 25 % to the KV cache (hV2 73's case);
    its 2 groups share one 8-GPU node, so the 6 GPUs hold 8 and the note says so (a mutant dropping the count
    lived)."""
    cluster = Cluster.resolve("dgx-h100-superpod")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chosen, why = auto_tp(load_model("megatron-145.6b"), cluster.accelerator, cluster.system, 6, 1, "fp8", "fp8",
                              256, 8192, load_engine("vllm-0.x"))
    assert chosen == 3
    assert why.endswith("(TP 3 holds 8 of them); --tp N sets it"), why
