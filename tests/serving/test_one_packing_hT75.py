"""hT75: one placement of disaggregated pools (`replica_packing.place_pools`), the held count and the KV hand-off's
worker domains both read off it; serve-plan's replica limit (`replicas_within`) and `serve --tp auto` count what the
deployment holds (the aligned replicas, the pair sharing domains); serve says the hand-off share it prices."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest
from tests.cli.conftest import cli_json

from infraplan.serving import kv_handoff, replica_packing
from infraplan.serving.deployment import Deployment
from infraplan.serving.disaggregated import DisaggregatedDeployment, PrefillLayout
from infraplan.serving.kv_handoff import handoff_note, inside_share, worker_domains
from infraplan.serving.replica_packing import aligned_gpus, held_gpus, place_pools, replicas_within
from infraplan.serving.replica_search import SearchJob
from infraplan.serving.serve_inputs import held_pools


def _first_fit(pools: list[tuple[int, int]], domain: int) -> tuple[list[list[int]], int]:
    """Place (workers, unit) pools group by group, the larger units first (pool order among equals), each in the
    first domain with room; a domain held whole unless its room fits a further group of a unit it holds."""
    used: list[int] = []
    units: list[set[int]] = []
    where: list[list[int]] = [[-1] * n for n, _ in pools]
    for i in sorted(range(len(pools)), key=lambda i: -pools[i][1]):
        n, unit = pools[i]
        for w in range(n):
            d = next((d for d, u in enumerate(used) if u + unit <= domain), len(used))
            if d == len(used):
                used.append(0)
                units.append(set())
            used[d] += unit
            units[d].add(unit)
            where[i][w] = d
    return where, sum(u if any(domain - u >= s for s in us) else domain for u, us in zip(used, units, strict=True))


def test_one_placement_no_second_form() -> None:
    """The closed form (`shared_gpus`) and kv_handoff's own first fit (`placement`) are gone: one function places."""
    assert not hasattr(replica_packing, "shared_gpus")
    assert not hasattr(kv_handoff, "placement")
    assert kv_handoff.place_pools is replica_packing.place_pools


@pytest.mark.parametrize("domain", [8, 12, 16])
def test_held_count_and_worker_domains_are_one_placement(domain: int) -> None:
    """Every PP 1 pair of two units within the domain, 1-6 workers each: where the pools share domains, the held
    count and every worker's domain are those of placing group by group; else the pools are held apart and the
    hand-off shares none."""
    shared = apart = 0
    for a, b in itertools.permutations(range(1, domain + 1), 2):
        for na, nb in itertools.product(range(1, 7), repeat=2):
            pools = [Deployment(tp=a, replicas=na), Deployment(tp=b, replicas=nb)]
            where, held = _first_fit([(na, a), (nb, b)], domain)
            assert place_pools(pools, domain) == (where, held)
            counted = held_gpus(pools, domain)
            if counted == held:
                shared += 1
                assert worker_domains(pools, domain) == where
            else:
                apart += 1
                assert counted < held
                assert counted == sum(aligned_gpus([(p.replicas, 1)], p.tp, domain) for p in pools)
                assert worker_domains(pools, domain) is None
    assert shared > 0 and apart > 0


def _aligned_by_hand(replicas: int, pp: int, unit: int, domain: int) -> int:
    """Each replica's PP groups at the first free slot from which they cross no more domain edges than they must,
    slot by slot; a domain whole where all its slots are taken, else its groups."""
    per = domain // unit
    taken: list[int] = []  # slots
    need = -(-pp // per) - 1
    nxt = 0
    for _ in range(replicas):
        start = next(s for s in itertools.count(nxt) if (s + pp - 1) // per - s // per <= need)
        taken += range(start, start + pp)
        nxt = start + pp
    per_domain = [sum(1 for s in taken if s // per == d) for d in {s // per for s in taken}]
    return sum(domain if g == per else g * unit for g in per_domain)


@pytest.mark.parametrize("domain", [8, 16, 24, 72])
def test_replica_limit_counts_the_aligned_placement(domain: int) -> None:
    """serve-plan's replica limit is the most replicas the placement it counts options at holds within the limit:
    the answer fits (`SearchJob.gpus`), one more does not."""
    for unit in range(1, domain + 1):
        for pp in (1, 2, 3, 4, 8):
            for limit in range(unit * pp, 4 * domain + 1, max(1, domain // 8)):
                most = replicas_within(limit, unit * pp, unit, domain)
                assert _aligned_by_hand(most, pp, unit, domain) <= limit < _aligned_by_hand(most + 1, pp, unit,
                                                                                              domain), (
                    unit, pp, limit)


def test_replica_limit_by_hand() -> None:
    """TP 20 PP 2 on NVL72 (3 group slots a rack): a replica may not straddle racks, so each rack takes one replica
    (40, room 32 for a further group: held for its groups): 2 replicas hold 80 and 3 hold 120, as serve-plan's
    options count them (`SearchJob.gpus`); back to back they held 72 + 20 = 92, and the limit of 80 said 1 before
    hT75."""
    assert replicas_within(80, 40, 20, 72) == 2
    job = SearchJob(0, ("mixed",), SimpleNamespace(dep=Deployment(tp=20, pp=2)), 1, 3, {},  # type: ignore[arg-type]
                    domain=72)
    assert [job.gpus(r) for r in (1, 2, 3)] == [40, 80, 120]
    assert replicas_within(119, 40, 20, 72) == 2 and replicas_within(120, 40, 20, 72) == 3
    assert replicas_within(18, 3, 3, 8) == 4 and replicas_within(19, 3, 3, 8) == 5  # PP 1: 8 + 8 + 3 (fast path)


def test_tp_auto_counts_the_pair() -> None:
    """gpt3-175b decode 12 GB200s beside prefill 2 x TP32 on NVL72: TP 3 (the smallest leaving 25 % to the KV cache)
    holds 78 with the prefill pool (64 + 2 x TP3 = 70, room 2; then 2 x TP3), TP 4 76 (64 + 2 x TP4 = 72 full, then
    one TP4): TP 4 is taken, where the decode pool alone (12 either way) took TP 3."""
    prefill = PrefillLayout(tp=32)
    assert held_gpus(held_pools(12, 3, 1, 64, prefill), 72) == 78
    assert held_gpus(held_pools(12, 4, 1, 64, prefill), 72) == 76
    assert held_gpus(held_pools(12, 3, 1), 72) == held_gpus(held_pools(12, 4, 1), 72) == 12
    assert len(held_pools(12, 3, 1, 63, prefill)) == 1  # a prefill pool TP 32 does not divide: refused later


def test_serve_tp_auto_holds_no_idle_beside_the_prefill_pool(capsys: pytest.CaptureFixture[str]) -> None:
    out = cli_json(capsys, ["serve", "gpt3-175b", "--system", "gb200-nvl72-superpod", "--stack", "vllm-0.x",
                            "--input-len", "1000", "--output-len", "200", "--rate", "1", "--requests", "50", "--gpus",
                            "76", "--tp", "auto", "--prefill-gpus", "64", "--prefill-tp", "32"])
    assert out["deployment"]["tp"] == 4  # was 3, holding 78 (2 idle)
    assert "gpus_held" not in out["deployment"]
    assert "TP 3 33 %" in out["deployment"]["tp_source"] and "the fewest accelerators" in out["deployment"][
        "tp_source"]


def _pair(engine: str, pre: tuple[int, int], dec: tuple[int, int]) -> DisaggregatedDeployment:
    stack = {"vllm": "vllm-0.x", "sglang": "sglang-0.x", "trtllm": "trtllm-0.x"}[engine]
    return DisaggregatedDeployment(*(Deployment(tp=tp, replicas=n, engine=engine, stack=stack) for n, tp in (pre, dec)))


def test_handoff_note_says_the_share_and_the_router() -> None:
    note = handoff_note(_pair("vllm", (2, 2), (2, 6)), 8, "GPU")
    assert note is not None and "f = 0.500" in note and "50 % of prefill" in note and "ASSUMPTION" in note
    assert inside_share(_pair("vllm", (3, 4), (3, 4)), 8) == pytest.approx(1 / 9)
    assert "f = 0.111" in (handoff_note(_pair("trtllm", (3, 4), (3, 4)), 8, "GPU") or "")
    assert handoff_note(_pair("sglang", (2, 2), (2, 6)), 8, "GPU") is None  # Mooncake: the NICs either way
    assert handoff_note(_pair("vllm", (1, 8), (3, 8)), 8, "GPU") is None  # whole nodes: none inside
    assert handoff_note(_pair("vllm", (1, 4), (1, 4)), 8, "GPU") is None  # one node: all inside


def test_serve_prints_the_handoff_share(capsys: pytest.CaptureFixture[str]) -> None:
    out = cli_json(capsys, ["serve", "megatron-18.4b", "--system", "dgx-h100-superpod", "--stack", "vllm-0.x",
                            "--input-len", "1000", "--output-len", "200", "--rate", "4", "--requests", "100",
                            "--gpus", "16", "--tp", "6", "--prefill-gpus", "4", "--prefill-tp", "2"])
    assert sum("f = 0.500" in w for w in out["warnings"]) == 1
