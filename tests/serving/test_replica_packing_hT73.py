"""Serving replicas whose TP group does not divide the scale-up domain (hT, session 73).

After hG73 (every TP vLLM / SGLang build), `serve gpt3-175b --system dgx-h100-superpod --gpus 12 --tp 6` answered
2 x (TP6 PP1) on 12 GPUs with no note, priced as 12: the second replica's TP group would span two 8-GPU nodes, or, as
a deployment places it, each node holds one TP6 replica and 2 idle GPUs (16 held). serve-plan answered 12 GPUs
(TP6 x 2) at 10 requests/s fp8 the same way. Now a TP group stays inside one domain, the deployment holds whole
domains where its groups leave some idle (`serving.replica_packing`), and cost, power, per-GPU figures, serve-plan's
GPU count and ranking, and fleet-mix's unit count them.
"""

from __future__ import annotations

import math
import random
import shlex
from types import SimpleNamespace
from typing import Any

import pytest
from tests.cli.conftest import cli_json, serve_of_its_command
from tests.config_copies import one_line_error

from infraplan.planning.fleet_mix_llm import deployment_line
from infraplan.serving import capacity
from infraplan.serving.replica_packing import aligned_gpus, packed_gpus, replicas_within
from infraplan.serving.replica_search import ALTERNATIVES, SearchJob, grown, option_rank, run_level
from infraplan.serving.results import ServingPlanResult


def _placed(groups: int, unit: int, domain: int) -> int:
    """The accelerators held by placing `groups` groups of `unit` one at a time, none across a domain edge: a domain
    no further group fits in is held whole, the last one (room for another) only for its groups."""
    if unit > domain or domain % unit == 0:
        return groups * unit
    used = [0]
    for _ in range(groups):
        if used[-1] + unit > domain:
            used.append(0)
        used[-1] += unit
    return sum(domain if u + unit > domain else u for u in used)


def test_packing_rule_against_placing_each_group() -> None:
    for domain in (4, 8, 12, 72):
        for unit in range(1, domain + 1):
            for groups in range(0, 40):
                assert packed_gpus(groups * unit, unit, domain) == _placed(groups, unit, domain), (domain, unit, groups)
            for pp in (1, 2, 3):
                for limit in range(1, 200, 7):
                    # hT75: replicas of PP > 1 are held where `aligned_gpus` places them (serve-plan's count)
                    most = max(r for r in range(limit // (unit * pp) + 1) if (
                        _placed(r, unit, domain) if pp == 1 else aligned_gpus([(r, pp)], unit, domain)) <= limit)
                    assert replicas_within(limit, unit * pp, unit, domain) == most, (domain, unit, pp, limit)
    # the module docstring's cases; TP dividing the domain, or wider than it, as before
    assert [packed_gpus(12, 6, 8), packed_gpus(6, 6, 8), packed_gpus(6, 3, 8), packed_gpus(9, 3, 8)] == [16, 8, 8, 11]
    assert [packed_gpus(80, 16, 72), packed_gpus(12, 4, 8), packed_gpus(16, 16, 8), packed_gpus(24, 12, 8)] == [
        88, 12, 16, 24]


SERVE = ["serve", "gpt3-175b", "--system", "dgx-h100-superpod", "--stack", "vllm-0.x", "--input-len", "1000",
         "--output-len", "200", "--rate", "1", "--requests", "200"]


def test_serve_counts_the_idle_gpus_of_the_nodes_it_holds(capsys: pytest.CaptureFixture[str]) -> None:
    out = cli_json(capsys, [*SERVE, "--gpus", "12", "--tp", "6"])
    d = out["deployment"]
    assert (d["tp"], d["replicas"], d["gpus"], d["gpus_held"]) == (6, 2, 12, 16)  # was 12, nothing held beside
    assert math.isclose(out["output_tokens_per_s_per_gpu"] * 16, out["output_tokens_per_s"], rel_tol=1e-12)
    assert math.isclose(out["power_w_per_gpu"] * 16 * out["duration_s"], out["energy_j"], rel_tol=1e-12)
    assert math.isclose(out["usd_per_million_tokens"], out["usd_per_hour_per_gpu"] * 16 / 3600
                        / out["steady_output_tokens_per_s"] * 1e6, rel_tol=1e-12)
    note = next(w for w in out["warnings"] if "stays inside one 8-GPU scale-up domain" in w)
    assert "TP 6: a domain holds 1 group of 6 and leaves 2 idle; the replicas' 12 GPUs hold 16, 4 idle" in note, note
    # TP 4 fills the nodes: no field, no note, its own 12 GPUs
    even = cli_json(capsys, [*SERVE, "--gpus", "12", "--tp", "4", "--dtype", "fp8"])
    assert "gpus_held" not in even["deployment"]
    assert math.isclose(even["output_tokens_per_s_per_gpu"] * 12, even["output_tokens_per_s"], rel_tol=1e-12)
    assert not any("scale-up domain, its all-reduces" in w for w in even["warnings"])


def test_serve_says_it_in_the_title(capsys: pytest.CaptureFixture[str]) -> None:
    from infraplan.cli.main import main

    assert main([*SERVE, "--gpus", "12", "--tp", "6"]) in (0, None)
    assert "2 × (TP6 PP1) h100-sxm holding 16 (4 idle)" in " ".join(capsys.readouterr().out.split())


def test_serve_refuses_more_domains_than_the_system_has(capsys: pytest.CaptureFixture[str]) -> None:
    err = one_line_error(capsys, *SERVE[:-4], "--offline", "--gpus", "12294", "--tp", "6")
    assert "hold 16,392 GPUs on 8-GPU scale-up domains" in err and "beyond the 16,384 of system" in err, err


def test_ranking_and_growth_count_held_gpus() -> None:
    base = {"pp": 1, "attention_dp": 1, "replicas": 1, "prefill_replicas": 0, "disaggregated": False,
            "max_batch": 256}
    tp6, tp8 = {**base, "tp": 6, "gpus": 8}, {**base, "tp": 8, "gpus": 8}
    assert option_rank(tp8) < option_rank(tp6)  # both hold a node: the one leaving none idle first
    assert grown(tp6, 1.01, 0.5, 64, domain=8) == {**tp6, "gpus": 16, "replicas": 2}  # one more node, not 12
    assert grown(tp6, 1.01, 0.5, 15, domain=8) is None  # beyond 15: the second replica holds a second node
    cand: Any = SimpleNamespace(dep=SimpleNamespace(gpus_per_replica=6, tp=6, attention_dp=1))
    job = SearchJob(0, ("mixed",), cand, 1, 10, {}, domain=8)
    assert [job.gpus(r) for r in (1, 2, 3)] == [8, 16, 24]


def test_serve_plan_ranks_by_the_gpus_held(capsys: pytest.CaptureFixture[str]) -> None:
    """fp8 at 10 requests/s: TP6 x 2 answered 12 GPUs, its second replica across two nodes; it holds 16, as TP4 x 4
    does, which wins the tie (none idle)."""
    plan = cli_json(capsys, ["serve-plan", "gpt3-175b", "--system", "dgx-h100-superpod", "--rate", "10",
                             "--workload", "chat", "--dtypes", "fp8", "--stack", "vllm-0.x"])
    assert plan["feasible"] and (plan["gpus"], plan["deployment"]["tp"]) == (16, 4)  # was 12: TP6 x 2
    assert "gpus_held" not in plan["deployment"]
    assert all(o["gpus"] >= 16 for o in plan["alternatives"])
    assert any((o["tp"], o["replicas"], o["gpus"]) == (6, 2, 16) for o in plan["alternatives"])  # held, not 12


def test_serve_plan_answer_with_idle_gpus_reruns(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """TP 6 the only TP tried: its answer holds 16, its line gives the replicas' 12 and `serve` holds the same 16."""
    monkeypatch.setattr(capacity, "tp_degrees", lambda *_args, **_kw: ([6], []))
    plan = cli_json(capsys, ["serve-plan", "gpt3-175b", "--system", "dgx-h100-superpod", "--rate", "10",
                             "--workload", "chat", "--dtypes", "fp8", "--stack", "vllm-0.x", "--no-disaggregation"])
    d = plan["deployment"]
    assert (plan["gpus"], d["tp"], d["replicas"], d["gpus"], d["gpus_held"]) == (16, 6, 2, 12, 16)
    assert shlex.split(plan["serve_command"])[shlex.split(plan["serve_command"]).index("--gpus") + 1] == "12"
    assert any("the replicas' 12 GPUs hold 16, 4 idle" in n for n in plan["notes"])
    serve_of_its_command(capsys, plan)
    line = deployment_line(ServingPlanResult.model_validate(plan))
    assert line.startswith("16 × h100-sxm (4 idle): 2 replicas of TP6"), line


@pytest.mark.parametrize("seed", range(12))
def test_run_level_lists_what_the_plain_search_does_on_held_gpus(seed: int) -> None:
    """`run_level`'s pruning (a colocated job's offline bound, a moot search) stays exact when options count the
    accelerators held: the first ALTERNATIVES + 1 options are those of searching every job in enumeration order."""
    rng = random.Random(seed)
    jobs: list[SearchJob] = []
    truth: dict[int, tuple[list[int], list[int]]] = {}
    for _ in range(rng.randint(1, 25)):
        tp = rng.choice((1, 2, 3, 4, 5, 6, 7, 8))
        cand: Any = SimpleNamespace(dep=SimpleNamespace(gpus_per_replica=tp, tp=tp, attention_dp=1))
        low, option = rng.randint(1, 30), {"dtype": "fp8", "tp": tp, "pp": 1, "ep": 1, "attention_dp": 1,
                                           "max_batch": 256}
        for mode in (("mixed",), ("prefill", "decode")):
            first = low if len(mode) == 1 else 2
            total = rng.randint(first, first + 40)
            ends = sorted({first, *(rng.randint(first, total) for _ in range(3)), total})
            truth[len(jobs)] = ([total] if len(mode) == 1 else [max(1, total // 3), total - max(1, total // 3)], ends)
            jobs.append(SearchJob(len(jobs), mode, cand, low, 4096 // tp, option, domain=8))

    def run(job: SearchJob, among: list[dict[str, Any]]) -> list[int] | None:
        counts, ends = truth[job.order]
        if any(sum(o["gpus"] < job.gpus(lo) for o in among) > ALTERNATIVES for lo in ends):
            return None  # moot on the way up
        return counts

    plain: list[dict[str, Any]] = []
    for job in jobs:
        if len(job.mode) == 1 and plain and job.gpus(job.low) > min(o["gpus"] for o in plain):
            continue
        if (got := run(job, plain)) is not None:
            plain.append({"gpus": job.gpus(sum(got)), **job.option, "replicas": sum(got),
                          "prefill_replicas": got[0] if len(got) == 2 else 0, "disaggregated": len(got) == 2})
    level = run_level(jobs, run, 4096)
    assert sorted(level, key=option_rank)[:ALTERNATIVES + 1] == sorted(plain, key=option_rank)[:ALTERNATIVES + 1]
    assert any(o["gpus"] > o["replicas"] * o["tp"] for o in level) or all(o["tp"] in (1, 2, 4, 8) for o in level)
