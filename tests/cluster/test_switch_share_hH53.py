"""hH53 (session 47): the per-device share of a scale-up domain's switches outside its servers (NVL72: 9 NVSwitch
trays, 3.6 kW per 72-GPU rack), in the host share serve / recsys / video add, once; the note where a user's
multi-node domain states no switch figure; campus's whole domains against plan's whole servers at one power."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from infraplan.catalog import load_accelerator, load_system
from infraplan.catalog.loader import preset_files
from infraplan.cluster import Cluster
from infraplan.cluster.generic import generic_node
from infraplan.cluster.host_share import host_share, unstated_switch_note
from infraplan.facility.facility import size_facility
from infraplan.planning.campus import plan_campus
from infraplan.planning.device_money import pool_figures_note
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.recsys.estimate import estimate_recsys
from infraplan.serving.results import ServingResult
from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.serving_metrics import host_share_line, power_terms

GB200_HOST_W = 1800.0 / 4  # a GB200 compute tray's 1.8 kW of host over its 4 GPUs (gb200-nvl72.yaml)
NVL72_SWITCH_W = 9 * 400.0 / 72  # 9 NVSwitch trays of ~400 W over the rack's 72 GPUs = 50 W


def test_serve_on_nvl72_charges_each_gpu_its_trays_share_by_hand() -> None:
    system = load_system("gb200-nvl72")
    acc = load_accelerator("gb200")
    assert power_terms(acc, system)[1] == pytest.approx(GB200_HOST_W + NVL72_SWITCH_W)  # 500 W
    r = estimate_serving("llama3-8b", "gb200-nvl72", 2, tp=1, dtype="bf16", stack="vllm-0.x", concurrency=8,
                         input_len=256, output_len=32, requests=80)
    assert isinstance(r, ServingResult) and r.fits and r.requests and r.mean_output_tokens
    assert r.joules_per_token and r.device_joules_per_token
    assert r.duration_s and r.assumptions and r.assumptions.host_share
    # the platform's always-on watts are what device J/token leaves out, over the steady served rate (hJ57)
    assert r.steady_output_tokens_per_s is not None
    assert (r.joules_per_token - r.device_joules_per_token) * r.steady_output_tokens_per_s == pytest.approx(
        2 * (GB200_HOST_W + NVL72_SWITCH_W), rel=1e-9)
    assert "50 W per accelerator of scale-up switches: 3600 W per 72-accelerator domain" in r.assumptions.host_share


def test_serve_at_full_draw_is_facilitys_it_per_gpu_less_network_and_storage() -> None:
    """`serve`'s GPU at TDP plus its platform share = `facility gb200-nvl72`'s (accelerators + hosts + scale-up
    switches) / GPUs = 1,200 + 450 + 50 = 1,700 W: one device, one figure."""
    system, acc = load_system("gb200-nvl72"), load_accelerator("gb200")
    r = size_facility(system="gb200-nvl72", cooling="liquid")
    p = r.power_breakdown_w
    per_gpu = (p["accelerators"] + p["hosts"] + p["scale_up_switches"]) / r.accelerators
    assert per_gpu == pytest.approx(acc.tdp_w + power_terms(acc, system)[1])
    assert per_gpu == pytest.approx(1200.0 + GB200_HOST_W + NVL72_SWITCH_W)


@pytest.mark.parametrize("device", ["gb200", "gb300", "mtia-400"])
def test_recsys_adds_the_same_share_serve_does(device: str) -> None:
    cluster = Cluster.resolve(device)
    r = estimate_recsys("dlrm-low", device)
    assert r.platform_power_w - r.power_w == pytest.approx(power_terms(cluster.accelerator, cluster.system)[1])
    assert host_share(device).switch_w == pytest.approx(NVL72_SWITCH_W)  # the rack's (mtia-400's ASSUMED as it)


def test_the_node_keeps_its_host_alone_so_facility_counts_the_switches_once() -> None:
    """The generic node of a plain count carries the host only; the switches come per domain from the node's own
    figure (cluster/power.py): 72 GB200 = one rack at exactly 72 x 1,700 W of servers and switches."""
    node, _, _ = generic_node(load_accelerator("gb200"))
    assert node.host_power_w == pytest.approx(4 * GB200_HOST_W) and node.scale_up_switch_power_w == 3600.0
    own, _, _ = generic_node(load_accelerator("mtia-400"))  # its own 300 W figure (device basis), not 350
    assert own.host_power_w == pytest.approx(4 * 300.0)
    r = size_facility(accelerator="gb200", count=72, cooling="liquid")
    p = r.power_breakdown_w
    assert p["accelerators"] + p["hosts"] + p["scale_up_switches"] == pytest.approx(72 * 1700.0)


def test_dgx_h100_is_unchanged() -> None:
    """An HGX baseboard's NVSwitch chips are inside the DGX H100's 10.2 kW: no share on top of 575 W."""
    system, acc = load_system("dgx-h100-superpod"), load_accelerator("h100-sxm")
    assert power_terms(acc, system)[1] == pytest.approx((10200 - 8 * 700) / 8)
    share = host_share("h100-sxm")
    assert share.switch_w == 0.0 and share.watts == share.host_w == 575.0 and "plus" not in share.source
    assert "scale-up switches" not in host_share_line(acc, system)


def test_a_what_if_with_its_own_host_keeps_its_racks_switches(tmp_path: Path) -> None:
    f = tmp_path / "gb200-lean.yaml"
    f.write_text("extends: gb200\nhost_power_w: 300W\nhost_source: ASSUMPTION test\n")
    share = host_share(load_accelerator(str(f)))
    assert (share.basis, share.host_w, share.switch_w) == ("device", 300.0, pytest.approx(NVL72_SWITCH_W))


def _rack_file(tmp_path: Path, **node: object) -> str:
    data = yaml.safe_load(preset_files("systems")["gb200-nvl72"].read_text())
    for key in ("scale_up_switch_power_w", "scale_up_switch_source"):
        data["node"].pop(key)
    data["node"].update(node)
    data["name"] = "my-rack"
    path = tmp_path / "my-rack.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_a_multi_node_domain_without_its_switch_figure_is_said(tmp_path: Path) -> None:
    """Not refused: a switchless multi-host domain (a direct torus) is a valid file; the answers say 0 W was
    counted and what an NVL72 rack's switches are."""
    path = _rack_file(tmp_path)
    note = unstated_switch_note(Cluster.resolve(path).system)
    assert note is not None and "72-accelerator scale-up domain spans 18 nodes" in note and "3,600 W" in note
    fac = size_facility(system=path, cooling="liquid")
    assert note in fac.figures_notes and fac.power_breakdown_w["scale_up_switches"] == 0.0
    assert note in host_share_line(load_accelerator("gb200"), Cluster.resolve(path).system)  # serve
    assert note in (pool_figures_note("p", path) or "")  # plan and fleet-mix
    stated = _rack_file(tmp_path, scale_up_switch_power_w="0W", scale_up_switch_source="0: a switchless torus")
    assert unstated_switch_note(Cluster.resolve(stated).system) is None
    assert unstated_switch_note(load_system("dgx-h100-superpod")) is None  # one node is its domain
    assert not any("spans" in n for n in size_facility(system="gb200-nvl72").figures_notes)


def test_campus_and_plan_differ_at_one_power_by_a_part_filled_rack_and_both_say_so() -> None:
    """100 MW of GB200: campus builds 653 whole NVL72 racks (47,016; 659, 47,448, until hB66 built the generic
    GB200 on the SuperPOD's rail units with optical NIC links); a plan at the same site packs whole trays, up to the
    count campus's note names, with its last rack's 9 switch trays; both answers name the other rule."""
    campus = plan_campus(100e6, "gb200")
    assert campus.accelerators == 47016 and campus.accelerators % 72 == 0
    (note,) = [n for n in campus.notes if n.startswith("the campus counts whole")]
    most = int(re.search(r"holds up to ([\d,]+) GPUs", note).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert campus.accelerators < most < campus.accelerators + 72 and most % 4 == 0
    pue = campus.facility.pue
    assert size_facility(accelerator="gb200", count=most).it_power_w * pue <= 100e6
    assert size_facility(accelerator="gb200", count=most + 4).it_power_w * pue > 100e6  # one tray more: over
    per_device = 1.7157e12 / 47448  # dlrm-low QPS per GB200 at 10 ms: a demand of exactly `most`
    plan = plan_scenario(ScenarioSpec.model_validate({
        "name": "campus-site", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": per_device * (most - 1),
                      "latency_slo": "10ms"}],
        "pools": [{"name": "pool", "device": "gb200", "site": "s"}], "sites": [{"name": "s", "power": "100MW"}]}))
    assert plan.pools[0].devices == most and plan.sites[0].facility_power_w <= 100e6
    assert f"one part-filled with {most - campus.accelerators}," in " ".join(plan.notes)
