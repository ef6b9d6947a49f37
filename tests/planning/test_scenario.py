"""`infraplan plan` / `compare`: the whole-stack planner agrees with the single-layer commands and the cost model,
rejects bad scenarios with one line, and writes its files."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests.user_docs import doc_path

from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.cluster.cost import cluster_cost, site_inputs
from infraplan.cluster.power import ServerLayout, it_load
from infraplan.errors import InputError
from infraplan.planning.compare import parse_vary, tornado
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_sizing import SERVING_MAX_GPUS, SERVING_PROBE_REQUESTS
from infraplan.planning.scenario_spec import ScenarioSpec, load_scenario
from infraplan.recsys.estimate import estimate_recsys
from infraplan.serving.capacity import search_capacity

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
README = doc_path("planning")  # "Plan a fleet", docs/planning.md (hM64)


def _spec(**over: object) -> ScenarioSpec:
    data: dict = {
        "name": "small",
        "phases": [{"name": "2025", "year": 2025}, {"name": "2026", "year": 2026}],
        "services": [
            {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 20},
            {"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "10M", "latency_slo": "10ms",
             "growth": {"2026": 2.0}},
        ],
        "pools": [{"name": "h100", "device": "h100-sxm", "system": "dgx-h100-superpod", "site": "a"}],
        "sites": [{"name": "a", "power": "50MW", "location": "ohio", "cooling": "air"}],
    }
    data.update(over)
    return ScenarioSpec.model_validate(data)


@pytest.fixture(scope="module")
def small_plan():
    return plan_scenario(_spec())


def test_llm_devices_equal_serve_plan(small_plan) -> None:
    ref = search_capacity("llama3-8b", "dgx-h100-superpod", 20.0, workload="chat", max_gpus=SERVING_MAX_GPUS,
                          requests=SERVING_PROBE_REQUESTS, seed=0)
    rows = [s for s in small_plan.services if s.service == "chat"]
    assert rows and all(r.devices == ref.gpus for r in rows)


def test_recsys_devices_equal_the_recsys_model(small_plan) -> None:
    qps = estimate_recsys("dlrm-low", "h100-sxm", latency_slo_s=0.01).qps
    for phase, need in (("2025", 10e6), ("2026", 20e6)):
        row = next(s for s in small_plan.services if s.service == "rank" and s.phase == phase)
        assert row.devices == math.ceil(need / qps)


def test_power_and_cost_are_the_power_chain_and_the_cost_model(small_plan) -> None:
    spec = _spec()
    for row in small_plan.pools:
        base = Cluster.resolve("dgx-h100-superpod").layout
        layout = ServerLayout(base.accelerator, base.system, generic=True)
        site = site_inputs(layout, "air", "ohio")
        load = it_load(layout, row.devices, site.cooling, site.cooling_name)
        money = cluster_cost(layout, load, site)
        assert row.it_power_w == pytest.approx(load.it_w)
        assert row.facility_power_w == pytest.approx(load.it_w * site.pue)
        assert row.fleet_value_usd == pytest.approx(sum(money.capex_usd.values()))
        assert row.tco_usd_per_year == pytest.approx(money.annual.tco_usd_per_year)
    for ph in small_plan.phases:
        sites = [s for s in small_plan.sites if s.phase == ph.phase]
        assert sum(s.facility_power_w for s in sites) == pytest.approx(ph.facility_power_w)
        assert sum(p.facility_power_w for p in small_plan.pools if p.phase == ph.phase) == pytest.approx(
            ph.facility_power_w)
    assert spec.policy.objective == small_plan.objective


def test_growth_never_removes_hardware(small_plan) -> None:
    first, second = small_plan.phases
    assert second.devices >= first.devices > 0


def test_heterogeneous_generations_and_dates() -> None:
    spec = _spec(pools=[
        {"name": "a100", "device": "a100-80gb", "site": "a"},
        {"name": "h100", "device": "h100-sxm", "site": "a", "from_year": 2026},
    ], services=[{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "10M", "latency_slo": "10ms"}])
    plan = plan_scenario(spec)
    assert {s.pool for s in plan.services if s.phase == "2025"} == {"a100"}  # H100 not delivered yet
    assert any("delivered from 2026" in e for e in plan.excluded)


@pytest.mark.parametrize(("over", "message"), [
    ({"pools": [{"name": "x", "device": "h100-sxmm", "site": "a"}]}, "h100-sxmm"),
    ({"sites": [{"name": "a", "power": "1kW"}]}, "smallest useful build"),
    ({"phases": [{"name": "b", "year": 2026}, {"name": "a", "year": 2025}]}, "inconsistent dates"),
    ({"pools": [{"name": "h100", "device": "h100-sxm", "site": "a", "from_year": 2030}]}, "inconsistent dates"),
    ({"pools": [{"name": "h100", "device": "h100-sxm", "site": "a", "serves": ["recsys"]}]},
     "no pool can serve 'chat'"),
    ({"pools": [{"name": "h100", "device": "h100-sxm", "site": "a", "available": 1}]}, "binding: pool h100 used up"),
])
def test_bad_scenarios_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], over: dict,
                                    message: str) -> None:
    data = json.loads(_spec().model_dump_json())
    data.update(over)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_unknown_field_is_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(_spec().model_dump_json())
    data["foo"] = 1
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    assert main(["plan", str(path)]) == 2
    assert "foo" in capsys.readouterr().err


def test_cli_json_parquet_report_and_tornado(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.json"
    path.write_text(_spec().model_dump_json())
    report = tmp_path / "plan.html"
    code = main(["plan", str(path), "--json", "--out", str(tmp_path), "--report", str(report),
                 "--vary", "electricity=0.05..0.12", "--vary", "h100.price=±30%"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["devices"] > 0 and [r["parameter"] for r in data["tornado"]] == ["h100.price", "electricity"]
    swing = data["tornado"][0]
    assert swing["tco_high_usd_per_year"] > swing["tco_low_usd_per_year"]
    pools = pq.read_table(tmp_path / "pools.parquet").to_pylist()
    assert sum(r["devices"] for r in pools) == sum(r["devices"] for r in data["pools"])
    for table in ("services", "racks", "sites", "phases"):
        assert (tmp_path / f"{table}.parquet").exists()
    html = report.read_text()
    assert "Plotly.newPlot" in html and len(html) > 1_000_000 and "<script src=\"http" not in html
    assert main(["schema", "plan"]) == 0 and "tco_usd_per_year" in capsys.readouterr().out


def test_vary_parsing() -> None:
    spec = _spec()
    assert parse_vary(spec, "electricity=0.05..0.12") == ("electricity", 0.05, 0.12)
    name, lo, hi = parse_vary(spec, "h100.price=±30%")
    assert (name, lo, hi) == ("h100.price", pytest.approx(42000 * 0.7), pytest.approx(42000 * 1.3))
    for bad in ("nope=1..2", "electricity=2..1", "electricity"):
        with pytest.raises(InputError):
            parse_vary(spec, bad)
    assert tornado(spec, []) == []


def test_compare_deltas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(_spec().model_dump_json())
    b.write_text(_spec(name="bigger", policy={"headroom": 9.0}).model_dump_json())
    assert main(["compare", str(a), str(b), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["deltas"][0]["devices"] == 0 and data["deltas"][1]["devices"] > 0


def test_meta_2024_preset_anchors() -> None:
    """Meta's end-2024 fleet (Meta engineering blog, 12 Mar 2024): 350,000 H100 and ~600,000 H100-equivalents,
    each within 15 %. The H100e total holds only with the preset's [U] MI300X pool for Meta's un-itemised other
    GPUs (242K H100e); without it the itemised fleet is 40 % short.
    Facility power has no published anchor for this fleet in shared/reference: Meta's only energy figure, 14.98 TWh
    of 2023 data-centre electricity (datacenter.md Sec. 1.5, every server of 2023), is an upper bound only.
    Imagine is image-generation demand; spare nodes are held by the (larger) installed base."""
    plan = plan_scenario(str(EXAMPLES / "meta-2024.yaml"))
    assert plan.energy_mwh_per_year < 14_975_435
    imagine = [s for s in plan.services if s.service == "imagine"]
    assert imagine and all(s.kind == "image" and s.devices > 0 for s in imagine)
    assert sum(s.served for s in imagine) >= imagine[0].demand
    assert any(p.spare_nodes > 0 for p in plan.pools)
    assert sum(p.devices for p in plan.pools) - plan.devices == 0
    for name in ("imagine", "ranking"):  # installed devices are sunk: no service spread idle over several pools
        rows = [s for s in plan.services if s.service == name]
        assert sum(s.served for s in rows) < rows[0].demand + max(s.served / s.devices for s in rows) + 1e-6
    h100 = sum(p.devices for p in plan.pools if p.pool in ("genai-roce-24k", "genai-ib-24k", "other-h100"))
    assert h100 == pytest.approx(plan.published["h100_gpus"], rel=0.15)
    assert plan.h100_equivalents == pytest.approx(plan.published["h100_equivalents"], rel=0.15)
    assumed = sum(p.h100_equivalents for p in plan.pools if p.pool == "other-gpus")
    assert (plan.h100_equivalents - assumed) / plan.published["h100_equivalents"] < 0.85
    llama = next(s for s in plan.services if s.service == "llama3-405b")
    assert llama.pool in ("genai-roce-24k", "genai-ib-24k", "other-h100", "rsc", "rsc-2")  # not the [U] pool


def test_gigawatt_2027_fills_the_campus_at_epoch_capex() -> None:
    """The 1 GW campus is filled (>= 90 % of its facility power in 2027) and, planned with Epoch AI's all-GB200
    hardware (catalog price, $42.4K per GPU), its capex per GW of IT is Epoch's $38 B within 15 % (Epoch 1-GW
    model, May 2026, datacenter.md Sec. 2; validation case epoch-1gw-gb200-capex)."""
    spec = load_scenario(EXAMPLES / "gigawatt-2027.yaml")
    plan = plan_scenario(spec)
    site = next(s for s in plan.sites if s.phase == "2027")
    assert 0.9 <= site.utilisation <= 1.0 + 1e-9
    header = (EXAMPLES / "gigawatt-2027.yaml").read_text()
    it_2027 = sum(p.it_power_w for p in plan.pools if p.phase == "2027")
    said = re.search(r"this GB300 plan: ([\d,]+),", header)  # its H100e per MW of 2027 IT (said 1,208 at 1,180, hU)
    assert said and int(said.group(1).replace(",", "")) == pytest.approx(plan.h100_equivalents / (it_2027 / 1e6),
                                                                         rel=0.01)
    data = json.loads(spec.model_dump_json())
    data["pools"] = [{"name": "gb200", "device": "gb200", "system": "gb200-nvl72-superpod", "site": "prometheus"}]
    gb200 = plan_scenario(ScenarioSpec.model_validate(data))
    last = [p for p in gb200.pools if p.phase == "2027"]
    it_w = sum(p.it_power_w for p in last)
    assert gb200.fleet_value_usd / (it_w / 1e9) == pytest.approx(spec.published["capex_usd_per_gw_it"], rel=0.15)
    # the figure the example's header and the README quote is this answer (they said $40.4 B and $39.9 B at $39.66 B,
    # hU session 51), within 0.1 B
    readme = " ".join(README.read_text().split())
    for text, rule in ((header, r"all-GB200 plan of this demand: \$([\d.]+) B"),
                       (readme, r"on GB200 its capex is \$([\d.]+) B per GW of IT")):
        quoted = re.search(rule, text)
        assert quoted and float(quoted.group(1)) == pytest.approx(gb200.fleet_value_usd / it_w, abs=0.1)


def test_deepseek_v3_gpu_hours_on_h800() -> None:
    """DeepSeek-V3 pre-training: 2,048 H800, 14.8T tokens, ~180K GPU-hours per trillion tokens = 2.664 M
    GPU-hours (DeepSeek-V3 report, arXiv 2412.19437, Table 1: 2,664K pre-training + 119K context extension + 5K
    post-training = 2.788 M in all; shared/reference/frontier.md 'Full run'), batch 15,360 x 4,096 tokens.
    Planned as a training demand with that GPU budget on a generic Megatron stack: the search's best plan and
    the reliability model's goodput. DeepSeek's own plan and software (DualPipe PP16 EP64, the EP all-to-all
    hidden behind compute, stack `deepseek-v3`) are checked in tests/training/test_deepseek_v3_plan.py (-7.8 %,
    issue 13's `train --tokens` gate). A generic stack must not beat DeepSeek's published figure (the planner
    would be optimistic against the state of the art) and should land within a quarter above it. Measured:
    2.88 M (+8 %) until the wgrad GEMM's main-gradient traffic was priced (round 7, `training.main_grad_accumulation.
    wgrad_width`), 3.12-3.14 M (+17-18 %) since: TP2 PP8 EP1 fp8, MFU 19 %, goodput 98 % (the former EP2 plan at 256
    tokens per expert is memory-bound on the fp32 gradient buffer). Round 11: that plan ran ZB-V, which the default
    stack's framework does not ship (megatron-core 0.8.0 schedules.py:100-108: 1F1B and interleaved only,
    `Stack.pipeline_schedules`); with its own schedules 3.21 M (+20.5 %) -> 3.54 M (+33 %): TP2 PP8 EP4 VP7
    interleaved fp8, MFU 17 %. Then (same round) the stack's ZeRO limits: megatron-core 0.8 runs only ZeRO-0/1 with a
    pipeline (`Stack.pipeline_zero_stages`, its distributed optimizer; no FSDP): 4.23 M (+59 %), TP2 PP16 EP16 ZeRO-1,
    MFU 14 %. The generic 2024 stack lacks what DeepSeek built (DualPipe, DeepEP, fp8 dispatch); on nemo-26.04 the
    same search gives 1.30 (3.47 M: TP2 PP4 EP8 fp8, MFU 17 %). hR45 (2026-12-04): megatron-core 0.8's even split
    refuses 61 layers on any PP > 1 (transformer_block.py:48-79, `training.pipeline_split_rule`; it predates
    DeepSeek-V3 and has no layout for it), so its best plan is TP4 PP1 EP256, MFU 11 %: 5.33 M (2.00); nemo-26.04 keeps
    its recipe's laid-out PP4 (1.28, 3.42 M; 2026-12-05: 5.51 M (2.07) and 3.34 M (1.25), the README's figures, hJ52;
    hN53: 3.78 M (1.42), TP2 PP8 EP16 ZeRO-1, once ZeRO-2's reduce-scatter is priced on every micro-batch).
    hH60 (2026-12-06): Megatron's all-to-all dispatcher gathers the routed copies over expert TP whenever ETP > 1
    (`ops.layer.ROUTED_GATHER_AT_EXPERT_TP`; TP4 ETP4 here): 5.65 M (2.12), TP4 PP1 EP256 bf16, MFU 21 %.
    The bound is what the stacks allow, not a quarter: <= 2.2 on
    megatron-core-0.8, and the current stack, the default since 2026-12 (`DEFAULT_TRAINING_STACK`, nemo-26.04), must
    do better than the old one."""
    from infraplan.planning.scenario_sizing import _training_point

    old = _training_point("deepseek-v3", "h800", None, 2048, 4096, 15360, "auto", "megatron-core-0.8", 14.8e12)
    assert old is not None
    ratio = 2048 * old[0] / 3600 / (180e3 * 14.8)
    assert 0.95 <= ratio <= 2.2, old[1]
    current = _training_point("deepseek-v3", "h800", None, 2048, 4096, 15360, "auto", None, 14.8e12)  # the default
    assert current is not None and 0.95 <= 2048 * current[0] / 3600 / (180e3 * 14.8) < ratio, current[1]
