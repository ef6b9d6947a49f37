"""LLM services in fleet-mix (planning/fleet_mix_llm.py): serve-plan's capacity search per pool, whole replicas in the
MILP, serve-plan's deployment named on every pool used."""

from __future__ import annotations

import functools
import json
import math
import shlex
from pathlib import Path

import pytest
import yaml
from tests.planning.conftest import stub_colocated_answer

from infraplan.catalog.serving_loader import load_workload
from infraplan.cli import main
from infraplan.facility import size_facility
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_mix_llm import LLM_MAX_GPUS, finer_options, llm_option
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.serving.capacity import search_capacity

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet-mix.yaml"
CHAT_70B = {"name": "chat", "kind": "llm", "model": "llama3-70b", "workload": "chat", "rate": 50}
CHAT_8B = {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 200}
CHAT_8B_VLLM = {**CHAT_8B, "stack": "vllm-0.x"}  # vLLM asked on MTIA (hV42; pytorch-mtia by default since hM69)


def spec(services, pools, **kw) -> FleetSpec:
    return FleetSpec.model_validate({"services": services, "pools": pools, **kw})


def serve_plan_json(command: str, capsys) -> dict:
    """Run a row's `serve_plan` line through the CLI, as a user would, and read its JSON."""
    args = shlex.split(command)
    assert args[:2] == ["infraplan", "serve-plan"]
    capsys.readouterr()
    assert main([*args[1:], "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_single_pool_fleet_is_serve_plans_answer(capsys) -> None:
    r = plan_fleet(spec([CHAT_70B], [{"name": "h100", "device": "h100-sxm"}]))
    (row,) = r.assignment
    plan = search_capacity("llama3-70b", "h100-sxm", 50.0, workload="chat", max_gpus=LLM_MAX_GPUS)
    d = plan.deployment
    assert row["devices"] == plan.gpus == r.totals.devices and row["served"] == pytest.approx(50.0)
    assert (row["tp"], row["pp"], row["dtype"], row["replicas"], row["disaggregated"]) == (
        d.tp, d.pp, d.dtype, d.replicas, d.disaggregated)
    assert row["deployment"].startswith(f"{plan.gpus} × h100-sxm: {d.replicas} replicas of TP{d.tp} PP{d.pp}, ")
    cli = serve_plan_json(row["serve_plan"], capsys)  # the printed serve-plan line gives the same deployment
    assert cli["gpus"] == row["devices"] and cli["deployment"]["tp"] == d.tp and cli["deployment"]["dtype"] == d.dtype
    assert row["ttft_p99_s"] == cli["serve"]["ttft_s"]["p99"] and row["tpot_p99_s"] == cli["serve"]["tpot_s"]["p99"]


def test_the_cli_prints_serve_plans_line_for_each_llm_pool(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"services": [CHAT_70B], "pools": [{"name": "h100", "device": "h100-sxm"}]}))
    assert main(["fleet-mix", str(path)]) == 0
    out = capsys.readouterr().out
    plan = search_capacity("llama3-70b", "h100-sxm", 50.0, workload="chat", max_gpus=LLM_MAX_GPUS)
    d = plan.deployment
    assert (f"chat on h100: {plan.gpus} × h100-sxm: {d.replicas} replicas of TP{d.tp} PP{d.pp}, {d.dtype} weights"
            in out)


def test_a_split_service_counts_whole_replicas_and_names_each_pools_deployment(capsys) -> None:
    """H100 limited to 3: the rest on A100, whose layout is serve-plan's (the MILP counts its replicas, TP x PP
    devices each); each pool's row is serve-plan's answer at that pool's share. (Until hN46 this ran H100 4 + MTIA
    v2 at 200 requests/s, where H100's 5 prefill + 3 decode answer was cut into 4 "replicas": a disaggregated answer
    with no smaller group is one unit of its 8 H100 now, so that pool gets no share: test_fleet_disaggregated_units_
    hN46.py.)"""
    svc = {**CHAT_8B_VLLM, "rate": 100}  # A100 limited to 12 too: since hB47 16 A100 alone (2 servers) draw less
    pools = [{"name": "h100", "device": "h100-sxm", "available": 3},  # than 3 H100 + 4 A100 (a server of each)
             {"name": "a100", "device": "a100-80gb", "available": 12}]
    r = plan_fleet(spec([svc], pools))
    rows = {a["pool"]: a for a in r.assignment}
    assert set(rows) == {"h100", "a100"} and rows["h100"]["devices"] <= 3
    assert sum(a["served"] for a in r.assignment) == pytest.approx(100.0)
    a100 = llm_option(spec([svc], pools).services[0], "a100-80gb", "gpu")
    whole = search_capacity("llama3-8b", "a100-80gb", 100.0, workload="chat", stack="vllm-0.x", max_gpus=LLM_MAX_GPUS)
    assert whole.deployment is not None and not whole.deployment.disaggregated and whole.deployment.replicas > 1
    d = whole.deployment
    assert (a100["unit_devices"], a100["units"]) == (d.tp * d.pp, d.replicas)
    for row in r.assignment:  # serve-plan at the share, within the accelerators the MILP gave the pool
        assert "note" not in row  # each share's re-search found a deployment (`llm_share`)
        cli = serve_plan_json(row["serve_plan"], capsys)
        assert cli["gpus"] == row["devices"] and cli["rate_per_s"] == pytest.approx(row["served"], rel=1e-12)
        assert cli["deployment"]["replicas"] == row["replicas"] and cli["deployment"]["tp"] == row["tp"]
    assert r.totals.power_w <= r.solver["objective_value"] + 1e-6  # re-searched shares never need more
    assert {p.pool: p.used for p in r.pools} == {"h100": rows["h100"]["devices"], "a100": rows["a100"]["devices"]}


def test_the_replica_milp_matches_brute_force() -> None:
    """Every unit count of every option the MILP is given (each pool's whole-rate answer and its finer ones,
    `fleet_mix_llm.finer_options`), tried: the least peak IT power that serves 200 requests/s within H100's 4 is the
    MILP's. (Before hB47 H100's whole-rate answer was one 8-GPU disaggregated unit, so H100 took none and the whole-rate
    options alone gave the optimum; now its units are single GPUs at 25 requests/s, and MTIA v2's rest comes from a
    finer answer.) The MILP may take any count of an option's units (fleet_milp: x integer >= 0), so each is tried up to
    the count that alone serves the rate (more only adds power): hW53 found the count capped at the option's own
    `units` (1 for a finer answer), which missed the MILP's 2 x 116 MTIA v2 once hA52 moved the capacities. The
    totals may sit below the objective where the share's re-search packs it in fewer devices (fleet_mix docstring)."""
    pools = [{"name": "h100", "device": "h100-sxm", "available": 4}, {"name": "v2", "device": "mtia-v2"}]
    s = spec([CHAT_8B_VLLM], pools)
    r = plan_fleet(s)
    svc = s.services[0]
    opts = []
    for device, kind, pool in (("h100-sxm", "gpu", "h100"), ("mtia-v2", "asic", "v2")):
        whole = llm_option(svc, device, kind, pool)
        opts.append([whole, *finer_options(svc, device, kind, pool, None, whole)])

    @functools.cache
    def watts(device: str, n: int) -> float:  # peak IT of n devices' whole servers (hW, hF2), as facility houses them
        return 0.0 if n == 0 else size_facility(accelerator=device, count=n).it_power_w

    def combos(options: list[dict], cap: float) -> list[tuple[int, float]]:  # (devices, capacity) of each unit mix
        got = [(0, 0.0)]
        for o in options:
            most = math.ceil(200.0 / o["capacity"])  # units of this option alone serving the rate
            got = [(d + k * o["unit_devices"], c + k * o["capacity"]) for d, c in got for k in range(most + 1)
                   if d + k * o["unit_devices"] <= cap]
        return got

    best = min(watts("h100-sxm", dh) + watts("mtia-v2", dv) for dh, ch in combos(opts[0], 4)
               for dv, cv in combos(opts[1], math.inf) if ch + cv >= 200.0 * (1 - 1e-9))
    # the objective prices the MILP's servers at the pools' own sizes, i.e. after the re-search (fleet_mix docstring):
    # with MTIA v2 alone the devices it bought are the objective over that price, at their own size the brute force's
    # least; since hQ56's batch-means confidence (MTIA v2's 50/s answer a finer unit) 4 H100 + 152 MTIA v2 are both's
    v2 = next(p for p in r.pools if p.pool == "v2")
    if any(p.devices_bought for p in r.pools if p.pool == "h100"):
        assert r.solver["objective_value"] == pytest.approx(best)
    else:
        assert watts("mtia-v2", round(r.solver["objective_value"] / v2.power_w_per_device)) == pytest.approx(best)
    assert r.totals.power_w <= best * (1 + 1e-12)


def test_tokens_per_day_is_a_peak_rate_over_the_workloads_mean_output() -> None:
    svc = {**CHAT_8B, "rate": None, "tokens_per_day": 2.0e9, "peak_to_average": 1.5}
    r = plan_fleet(spec([svc], [{"name": "h100", "device": "h100-sxm"}]))
    out = load_workload("chat").output_tokens
    rate = 2.0e9 / 86400 * 1.5 / (out.median * math.exp(out.sigma**2 / 2))
    assert r.assignment[0]["served"] == pytest.approx(rate)
    assert f"--rate {rate!r}" in r.assignment[0]["serve_plan"]


def test_cpu_and_video_pools_are_excluded_with_a_reason_and_the_gpu_only_baseline_serves_llm() -> None:
    pools = [{"name": "xeon", "device": "xeon-8480"}, {"name": "msvp", "device": "msvp"},
             {"name": "h100", "device": "h100-sxm"}]
    r = plan_fleet(spec([CHAT_70B], pools))
    reasons = {e["pool"]: e["reason"] for e in r.excluded}
    assert "does not run LLM serving" in reasons["xeon"] and "does not run LLM serving" in reasons["msvp"]
    assert r.gpu_only is not None and r.gpu_only.totals.devices == r.totals.devices
    with pytest.raises(Exception, match="no pool can serve 'chat'"):
        plan_fleet(spec([CHAT_70B], pools[:2]))


def test_an_llm_service_needs_its_model_workload_and_one_demand(tmp_path: Path, capsys) -> None:
    for bad, needle in (({"name": "c", "kind": "llm", "model": "llama3-8b"}, "model and workload"),
                        ({**CHAT_8B, "tokens_per_day": 1e9}, "exactly one of rate")):
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump({"services": [bad], "pools": [{"name": "h100", "device": "h100-sxm"}]}))
        assert main(["fleet-mix", str(path)]) == 2
        err = capsys.readouterr().err
        assert needle in err and err.count("\n") == 1


def test_the_example_sizes_its_llm_service_with_serve_plan() -> None:
    r = plan_fleet(str(EXAMPLE))
    rows = [a for a in r.assignment if a["unit"] == "requests/s"]
    assert rows and sum(a["served"] for a in rows) == pytest.approx(50.0)
    assert all(a["serve_plan"].startswith("infraplan serve-plan llama3-70b") for a in rows)
    assert "llm" in r.supported_services


def test_a_planned_llm_service_searches_with_its_stack_as_fleet_mix_does() -> None:
    """`plan` sized an LLM service with serve-plan's default stack whatever its `stack:` said (fleet-mix honoured
    it): both now run one search (`fleet_mix_llm.serve_plan_search`) with the service's stack."""
    from infraplan.errors import InputError
    from infraplan.planning.scenario_sizing import size_llm
    from infraplan.planning.scenario_spec import PoolSpec, ServiceSpec

    pool = PoolSpec(name="h100", device="h100-sxm", site="s")
    svc = ServiceSpec(name="chat", kind="llm", model="llama3-8b", workload="chat", rate=5, stack="vllm-0.x")
    sized = size_llm(svc, pool, 5.0)
    ref = search_capacity("llama3-8b", "h100-sxm", 5.0, workload="chat", max_gpus=LLM_MAX_GPUS, stack="vllm-0.x")
    assert not isinstance(sized, str) and sized.unit_devices == ref.gpus and ref.stack == "vllm-0.x"
    with pytest.raises(InputError):  # ignored before: the default stack answered
        size_llm(svc.model_copy(update={"stack": "no-such-stack"}), pool, 5.0)


def test_a_tokens_per_day_service_peaks_at_its_mean_output_length() -> None:
    """`llm_peak_rate`: tokens/day / 86,400 x peak-to-average / the workload's MEAN output tokens (chat: log-normal,
    median 129, sigma 0.9: mean 129 e^0.405 = 193.4), one rule for fleet-mix and `plan`."""
    from infraplan.planning.fleet_mix_llm import llm_peak_rate
    from infraplan.planning.scenario_sizing import llm_peak_rate as plans

    svc = spec([{**CHAT_8B, "rate": None, "tokens_per_day": 86400 * 193.4, "peak_to_average": 2.0}],
               [{"name": "h", "device": "h100-sxm"}]).services[0]
    out = load_workload("chat").output_tokens
    assert out is not None and out.distribution == "lognormal"
    assert llm_peak_rate(svc) == pytest.approx(2.0 * 193.4 / (out.median * math.exp(out.sigma ** 2 / 2)))
    assert llm_peak_rate(svc) == pytest.approx(2.0, rel=1e-3) and plans is llm_peak_rate
    assert llm_peak_rate(svc.model_copy(update={"rate": 7.0})) == 7.0  # a stated rate is the peak itself


def test_one_short_deployment_string_serves_fleet_mix_and_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """fleet-mix's operating-point column and plan's LLM detail were two near-identical f-strings; one function
    (`fleet_mix_llm.deployment_short`) now writes both, the replica count and the devices both said (hF60)."""

    from infraplan.cli.commands.fleet_mix import _llm_point
    from infraplan.planning import scenario_sizing
    from infraplan.planning.scenario_spec import PoolSpec as PlanPool
    from infraplan.planning.scenario_spec import ServiceSpec as PlanService

    row = {"replicas": 3, "tp": 8, "pp": 1, "dtype": "fp8", "disaggregated": False, "prefill_replicas": 0,
           "devices": 24}
    # the replica count and the devices both said (hF60: "3 × TP8 PP1" read as 3 GPUs)
    assert _llm_point(row) == "3 replicas of TP8 PP1 fp8 (8 devices each, 24 in all)"
    assert _llm_point({**row, "disaggregated": True, "prefill_replicas": 2}) == \
        "3 replicas of TP8 PP1 fp8 (2 prefill; 8 devices each, 24 in all)"
    assert _llm_point({**row, "devices": 20}) == "3 replicas of TP8 PP1 fp8 (20 devices in all)"  # unequal replicas

    dep = stub_colocated_answer(monkeypatch)
    svc = PlanService(name="chat", kind="llm", model="llama3-8b", workload="chat", rate=1.0)
    pool = PlanPool(name="p", device="h100-sxm", site="s")
    sized = scenario_sizing.size_llm(svc, pool, 1.0)
    assert not isinstance(sized, str) and sized.detail == (  # hL46: split by replica
        "replicas of serve-plan's answer at 1 requests/s (0.25 each), 4 replicas of TP4 PP2 bf16 (8 devices each, 32 "
        "in all), batch <= 128")
    dep.disaggregated = True
    sized = scenario_sizing.size_llm(svc, pool, 1.0)
    assert not isinstance(sized, str) and sized.detail == ("4 replicas of TP4 PP2 bf16 (1 prefill + 3 decode; 8 "
                                                           "devices each, 32 in all), batch <= 128 (one unit: 1:3 has "
                                                           "no smaller group in that ratio)")  # hL47
