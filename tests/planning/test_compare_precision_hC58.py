"""An LLM service `compare` sets side by side at different precisions is said and re-planned like-for-like (hC58).

hG57: Llama 3 70B chat at 500 requests/s under vLLM 0.12 ran bf16 on an MTIA-400 rack (its catalog lists mxfp8 and
no fp8; vLLM 0.12 has no MXFP8 linear method) and fp8 on GB200 NVL72: `compare` ranked GB200 ahead (84 vs 128
devices) where at bf16 on both MTIA leads (128 vs 148), with no word of the precisions. Now every LLM row of `plan`
and `fleet-mix` names its weights, activations and KV (`precision`), and `compare` says where the sides differ and
gives the headline numbers re-planned at the formats every side runs (planning/compare_precision.py), the answer
`plan` gives for the file with those `dtypes` (one answer). The searches are stubbed (serve-plan's answer: the first
asked format the part and stack run, of a device count by format); the rule is what is tested.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.planning import fleet_mix_llm, scenario_sizing
from infraplan.planning.compare import compare_scenarios
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.llm_precision import precision_words, runnable_dtypes
from infraplan.planning.scenario import plan_scenario, plan_summary
from infraplan.planning.scenario_spec import ScenarioSpec

GPUS = {"fp8": 8, "mxfp8": 8, "nvfp4": 4, "bf16": 16}  # the stub's answer: 8 or 16 one-device replicas by format
PHASE = {"name": "2026", "year": 2026}
SITE = {"name": "ohio", "power": "10MW", "location": "ohio"}


def _chat(stack: str, dtypes: list[str] | None = None) -> dict[str, Any]:
    return {"name": "chat", "kind": "llm", "model": "llama3-70b", "workload": "chat", "rate": 50, "stack": stack,
            **({"dtypes": dtypes} if dtypes else {})}


def _scenario(name: str, device: str, stack: str, dtypes: list[str] | None = None) -> dict[str, Any]:
    return {"name": name, "phases": [PHASE], "services": [_chat(stack, dtypes)],
            "pools": [{"name": name, "device": device, "site": "ohio", "price_usd_per_device": 30000}],
            "sites": [SITE]}


def _answer(system: str, dtypes: tuple[str, ...], stack: str | None) -> Any:
    """serve-plan stubbed: the first asked format `system` and `stack` run (as its search refuses none runnable)."""
    runs, _ = runnable_dtypes(dtypes, system, stack)
    if not runs:
        raise InputError(f"--dtypes {','.join(dtypes)}: {system} runs none of them")
    dtype = runs[0] if "bf16" not in runs or len(runs) == 1 else next(d for d in runs if d != "bf16")
    n = GPUS[dtype]
    dep = SimpleNamespace(replicas=n, tp=1, pp=1, dtype=dtype, kv_dtype="bf16" if dtype == "bf16" else "fp8",
                          max_batch=64, disaggregated=False, attention_dp=1, prefill=None, decode=None,
                          prefill_replicas=0, decode_replicas=0)
    serve = SimpleNamespace(ttft_s=SimpleNamespace(p99=1.0), tpot_s=SimpleNamespace(p99=0.1), joules_per_token=1.0)
    return SimpleNamespace(feasible=True, gpus=n, deployment=dep, serve=serve, slo=None, why=None, system=system,
                           accelerator=system, stack=stack or "trtllm-0.x", rate_per_s=50.0, meets_slo_full_run=True)


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> None:
    def search(model: str, system: str, rate: float, workload: str, ttft: Any, tpot: Any,
               dtypes: tuple[str, ...], stack: str | None, *_: Any) -> Any:
        return _answer(system, dtypes, stack)

    monkeypatch.setattr(scenario_sizing, "serve_plan_search", search)
    monkeypatch.setattr(fleet_mix_llm, "serve_plan_search", search)


def test_the_formats_a_pool_runs_and_the_words_of_a_precision() -> None:
    assert runnable_dtypes(["bf16", "fp8"], "mtia-400-rack", "vllm-0.x") == (
        ["bf16"], ["fp8: mtia-400 has no fp8 support in its catalog file"])
    assert runnable_dtypes(["bf16", "fp8"], "gb200-nvl72", "vllm-0.x") == (["bf16", "fp8"], [])
    runs, gaps = runnable_dtypes(["mxfp8"], "gb200-nvl72", "vllm-0.x")  # vLLM 0.12: no MXFP8 linear method
    assert runs == [] and "the vllm engine does not run mxfp8" in gaps[0]
    assert runnable_dtypes(["mxfp8"], "mtia-400-rack", "sglang-0.x")[0] == ["mxfp8"]
    acc = Cluster.resolve("h100-sxm").accelerator
    assert precision_words("fp8", "fp8", acc) == "fp8 weights and activations (W8A8), fp8 KV"
    assert precision_words("bf16", "bf16", acc) == "bf16 weights and activations, bf16 KV"
    assert precision_words("int4", "bf16", acc) == "int4 weights, bf16 activations (weight-only W4A16), bf16 KV"


def test_compare_says_the_precisions_differ_and_gives_the_like_for_like_plan(stub: None) -> None:
    mtia, gb200 = (ScenarioSpec.model_validate(_scenario(n, d, "vllm-0.x"))
                   for n, d in (("mtia", "mtia-400-rack"), ("gb200", "gb200-nvl72")))
    c = compare_scenarios([mtia, gb200])
    rows = [p.services[0] for p in c.scenarios]
    assert [(r.weight_dtype, r.kv_dtype) for r in rows] == [("bf16", "bf16"), ("fp8", "fp8")]
    assert rows[1].precision == "fp8 weights and activations (W8A8), fp8 KV"
    assert c.like_for_like_dtypes == {"chat": ["bf16"]}
    assert c.precision_notes[0].startswith("precision: chat runs at different precisions (mtia: mtia bf16 weights "
                                           "and activations, bf16 KV (vllm-0.x); gb200: gb200 fp8 weights")
    assert "since mtia cannot run fp8: mtia-400 has no fp8 support in its catalog file" in c.precision_notes[0]
    assert c.precision_notes[1] == ("like-for-like: chat at bf16: mtia: mtia bf16 weights and activations, bf16 KV "
                                    "(vllm-0.x); gb200: gb200 bf16 weights and activations, bf16 KV (vllm-0.x)")
    like = c.scenarios[0].facility_power_w, plan_summary(plan_scenario(ScenarioSpec.model_validate(
        _scenario("gb200", "gb200-nvl72", "vllm-0.x", ["bf16"]))))["facility_power_w"]
    assert c.precision_notes[2] == (f"like-for-like: facility power (peak) gb200 / mtia {like[1] / like[0]:.3g}x "
                                    "like-for-like, "
                                    f"{c.scenarios[1].facility_power_w / like[0]:.3g}x as asked")
    # one answer: the MTIA side stands as planned; the GB200 side is `plan` of its file with `dtypes: [bf16]`
    assert c.like_for_like is not None and c.like_for_like[0] == plan_summary(c.scenarios[0])
    again = plan_scenario(ScenarioSpec.model_validate(_scenario("gb200", "gb200-nvl72", "vllm-0.x", ["bf16"])))
    assert c.like_for_like[1] == plan_summary(again)
    assert c.scenarios[1].devices < c.scenarios[0].devices and again.devices >= c.scenarios[0].devices  # the flip


def test_no_re_plan_where_the_sides_ran_the_same_formats_or_share_none(stub: None) -> None:
    same = [ScenarioSpec.model_validate(_scenario(n, "h100-sxm", s)) for n, s in (("a", "vllm-0.x"),
                                                                                 ("b", "sglang-0.x"))]
    c = compare_scenarios(same)  # both fp8: nothing to say
    assert c.precision_notes == [] and c.like_for_like is None and c.like_for_like_dtypes == {}
    apart = [ScenarioSpec.model_validate(_scenario(n, d, "sglang-0.x", ["fp8", "mxfp8"]))
             for n, d in (("mtia", "mtia-400-rack"), ("h100", "h100-sxm"))]  # MTIA: mxfp8 only; H100: fp8 only
    c = compare_scenarios(apart)
    assert c.like_for_like is None and len(c.precision_notes) == 1
    assert c.precision_notes[0].endswith("not compared like-for-like")
    assert "no asked format runs on every side" in c.precision_notes[0]


def test_compare_text_prints_the_lines_and_the_like_for_like_table(stub: None, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    files = []
    for name, device in (("mtia", "mtia-400-rack"), ("gb200", "gb200-nvl72")):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(_scenario(name, device, "vllm-0.x")), encoding="utf-8")
        files.append(str(tmp_path / f"{name}.yaml"))
    capsys.readouterr()
    assert main(["compare", *files]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "precision: chat runs at different precisions" in out
    assert "like-for-like: chat at bf16 on every side (delta vs the first)" in out
    assert main(["plan", files[1]]) == 0  # plan's LLM line names the precision with the stack
    out = " ".join(capsys.readouterr().out.split())
    assert "chat on gb200: stack vllm-0.x, fp8 weights and activations (W8A8), fp8 KV (the `stack` of service" in out


def test_fleet_mix_rows_name_their_precision(stub: None) -> None:
    spec = FleetSpec.model_validate({"name": "f", "services": [_chat("vllm-0.x")], "pools": [
        {"name": "mtia", "device": "mtia-400-rack", "price_usd_per_device": 30000}]})
    rows = [a for a in plan_fleet(spec).assignment if a["unit"] == "requests/s"]
    assert [(a["pool"], a["dtype"], a["kv_dtype"], a["precision"]) for a in rows] == [
        ("mtia", "bf16", "bf16", "bf16 weights and activations, bf16 KV")]


def test_plan_says_where_its_pools_were_sized_at_different_precisions(stub: None) -> None:
    """One scenario offering both pools: the MILP chooses between them, each at its own precision; `plan`'s notes
    say so and which `dtypes` make the choice like-for-like (the rule `compare` re-plans with)."""
    raw = _scenario("mtia", "mtia-400-rack", "vllm-0.x")
    raw["pools"].append({"name": "gb200", "device": "gb200-nvl72", "site": "ohio", "price_usd_per_device": 30000})
    notes = plan_scenario(ScenarioSpec.model_validate(raw)).notes
    assert ("chat: its pools were sized at different precisions (mtia bf16 weights and activations, bf16 KV; "
            "gb200 fp8 weights and activations (W8A8), fp8 KV), since mtia cannot run fp8: mtia-400 has no fp8 "
            "support in its catalog file; the MILP chose between them each at its own (for one precision on every "
            "pool, give the service dtypes [bf16], which every pool runs)") in notes
    raw["services"][0]["dtypes"] = ["bf16"]  # that choice: no line
    assert not any("different precisions" in n for n in plan_scenario(ScenarioSpec.model_validate(raw)).notes)


def test_one_supply_menu_on_every_side_is_not_re_planned(stub: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two scenarios offering the same pools (MTIA 400 and GB200) at two rates: where the MILP's choice puts the
    service on MTIA (bf16) at one rate and on GB200 (fp8) at the other, no part is missing on either side: nothing
    is said and nothing re-planned (compare of one menu at three scales, benchmarks/scenario_plan.py)."""
    def search(model: str, system: str, rate: float, workload: str, ttft: Any, tpot: Any,
               dtypes: tuple[str, ...], stack: str | None, *_: Any) -> Any:
        answer = _answer(system, dtypes, stack)  # fp8 on GB200 costs 64 devices above 80 requests/s: MTIA's 16 win
        n = 64 if answer.deployment.dtype == "fp8" and rate > 80 else answer.gpus
        answer.gpus = answer.deployment.replicas = n
        return answer

    monkeypatch.setattr(scenario_sizing, "serve_plan_search", search)
    raw = _scenario("both", "mtia-400-rack", "vllm-0.x")
    raw["pools"].append({"name": "gb200", "device": "gb200-nvl72", "site": "ohio", "price_usd_per_device": 30000})
    low, high = ScenarioSpec.model_validate(raw), ScenarioSpec.model_validate(
        {**raw, "name": "high", "services": [{**raw["services"][0], "rate": 100}]})
    c = compare_scenarios([low, high])
    assert [{r.pool for r in p.services} for p in c.scenarios] == [{"gb200"}, {"both"}]  # fp8, then bf16
    assert c.precision_notes == [] and c.like_for_like is None


def test_sides_asking_no_format_in_common_are_told_which_would_compare(stub: None) -> None:
    """hN75: nvfp4 asked on B200 against fp8 on H100 read "no asked format runs on every side (none in common)",
    though B200 runs the fp8 the other side asked: now what each side asked, and the format every side runs."""
    fp4, fp8 = (ScenarioSpec.model_validate(_scenario(n, d, "trtllm-0.x", [f]))
                for n, d, f in (("b200", "b200", "nvfp4"), ("h100", "h100-sxm", "fp8")))
    c = compare_scenarios([fp4, fp8])
    assert c.like_for_like is None and len(c.precision_notes) == 1
    assert c.precision_notes[0].endswith("; the sides ask no format in common (b200: [nvfp4]; h100: [fp8]); fp8 "
                                         "runs on every side: ask it in every side's `dtypes` to compare "
                                         "like-for-like: not compared like-for-like")
    mx, h100 = (ScenarioSpec.model_validate(_scenario(n, d, "sglang-0.x", [f]))
                for n, d, f in (("mtia", "mtia-400-rack", "mxfp8"), ("h100", "h100-sxm", "fp8")))
    line = compare_scenarios([mx, h100]).precision_notes[0]  # MTIA 400 runs no fp8, H100 no mxfp8
    assert line.endswith("; the sides ask no format in common (mtia: [mxfp8]; h100: [fp8]): not compared "
                         "like-for-like")
