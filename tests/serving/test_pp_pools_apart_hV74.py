"""hV74 review of hT74's shared disaggregated packing: `shared_gpus` places stage groups, not replicas, while
`serving.pipeline_hops` prices a replica's stage hops as a replica placed whole from a domain edge (hK74). Shared,
decode 2 x TP6 PP2 beside prefill 2 x TP2 PP2 on dgx-h100's 8-GPU nodes held 32 (each node one TP6 and one TP2 stage
group), so each prefill replica's two stages sat on two nodes, yet its hop was priced over NVLink (a TP2 PP2 replica
fits one node). Now pools of PP > 1 are held apart (40: 4 TP6 nodes, the prefill pool's 8 on one), as their hops
are priced; pools of PP 1 share as before (hT74's 16)."""

from __future__ import annotations

import itertools

import pytest
from tests.cli.conftest import cli_json

from infraplan.serving.deployment import Deployment
from infraplan.serving.pipeline_hops import hop_crosses_domain
from infraplan.serving.replica_packing import aligned_gpus, held_gpus

SERVE = ["serve", "megatron-18.4b", "--system", "dgx-h100-superpod", "--stack", "vllm-0.x", "--input-len", "1000",
         "--output-len", "200", "--rate", "4"]


def _pools(prefill: tuple[int, int, int], decode: tuple[int, int, int]) -> list[Deployment]:
    """(replicas, TP, PP) each."""
    return [Deployment(replicas=r, tp=t, pp=p) for r, t, p in (prefill, decode)]


def test_pipelined_pools_are_held_apart_and_pp1_pools_still_share() -> None:
    assert held_gpus(_pools((2, 2, 2), (2, 6, 2)), 8) == 40  # was 32: TP6 + TP2 stage groups a node
    assert not hop_crosses_domain(2, 2, 1, 8).any()  # the prefill hop as priced: inside one node
    assert held_gpus(_pools((2, 2, 1), (2, 6, 1)), 8) == 16  # hT74's PP 1 sharing stays
    assert held_gpus(_pools((1, 2, 1), (1, 6, 2)), 8) == 2 + 16  # one pipelined pool: apart (was 16)


def test_a_shared_count_only_for_pp1_pools() -> None:
    """Every held count below the pools packed apart (each replica placed whole, as its hops are priced) is of PP 1
    pools, over two units on 8- and 72-GPU domains."""
    shared = 0
    for domain, (tp_a, tp_b), pp_a, pp_b, r_a, r_b in itertools.product(
            (8, 72), ((2, 6), (3, 2), (16, 8), (4, 3)), (1, 2, 3), (1, 2), (1, 2, 3), (1, 2, 4)):
        pools = _pools((r_a, tp_a, pp_a), (r_b, tp_b, pp_b))
        apart = sum(aligned_gpus([(d.replicas, d.pp)], d.tp, domain) for d in pools)
        held = held_gpus(pools, domain)
        assert held <= apart
        if held < apart:
            shared += 1
            assert pp_a == pp_b == 1, (domain, tp_a, tp_b, pp_a, pp_b, r_a, r_b)
    assert shared > 0  # the PP 1 cases still share


def test_serve_holds_the_pipelined_pools_apart(capsys: pytest.CaptureFixture[str]) -> None:
    out = cli_json(capsys, [*SERVE, "--gpus", "32", "--tp", "6", "--pp", "2", "--prefill-gpus", "8", "--prefill-tp",
                            "2", "--prefill-pp", "2"])
    assert out["deployment"]["gpus_held"] == 40  # was absent (32 held)
    assert out["output_tokens_per_s_per_gpu"] * 40 == pytest.approx(out["output_tokens_per_s"], rel=1e-12)
    assert any("the replicas' 32 GPUs hold 40, 8 idle" in n for n in out["warnings"])
