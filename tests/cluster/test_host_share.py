"""One host share per device (cluster/host_share.py): serve, serve-plan, recsys, video, fleet-mix (power and cost
sides), plan and facility add the same host watts to one device.

Before: MTIA v2 had 73.8 W of host in `serve` / `facility` (the GPU-server rule, 0.82 x 90 W) and 46 W in `recsys`
and fleet-mix's power objective; MTIA v1 20.5 vs 40 W; Xeon 8480 287 vs 150 W; EPYC 9654 295.2 (serve), 170
(recsys) and 150 W (video); MTIA 450 / 300 took the GPU-server rule (1,148 / 656 W) while MTIA 400 its rack's 300 W.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.cluster import Cluster
from infraplan.cluster.host_share import host_share
from infraplan.planning import fleet_pool_money
from infraplan.planning.device_money import cost_overrides, device_money, device_site
from infraplan.planning.fleet_spec import FleetSpec, PoolSpec, ServiceSpec
from infraplan.recsys.estimate import estimate_recsys
from infraplan.serving.serving_metrics import power_terms
from infraplan.video.transcode import estimate_video

RANKING = ServiceSpec(name="rank", kind="recsys", model="dlrm-medium", qps=1e6, latency_slo=0.02)
VIDEO = ServiceSpec(name="vod", kind="video", input="2160p60", ladder=5, codec="h264", quality="high",
                    daily_hours=100)


def _fleet_power_w(service: ServiceSpec, device: str, host_power_w: float | None = None) -> float:
    """fleet-mix's power per device of a pool of `device` (its power and cost sides share one IT load)."""
    pool = PoolSpec(name="p", device=device, capex_usd=1.0, host_power_w=host_power_w)
    money = fleet_pool_money.fleet_pool_money(FleetSpec(services=[service], pools=[pool]), pool)
    return float(fleet_pool_money.per_device_costs(money, True)["power_w"])  # type: ignore[arg-type]


@pytest.mark.parametrize("device", ["mtia-v1", "mtia-v2", "mtia-300", "mtia-400", "mtia-450", "a100-80gb",
                                    "h100-sxm", "b200", "mi300x", "xeon-8480", "epyc-9654"])
def test_every_command_adds_the_same_host_to_one_device(device):
    full = host_share(device)
    share = full.watts  # host + the scale-up switches outside the servers (MTIA 400's rack: 300 + 50 W, hH53)
    cluster = Cluster.resolve(device)
    assert power_terms(cluster.accelerator, cluster.system)[1] == pytest.approx(share)  # serve, serve-plan
    layout = cluster.layout  # plan, facility, fleet-mix's cost model: the host per server, the switches per domain
    assert layout.host_power_w / layout.accelerators_per_server == pytest.approx(full.host_w)
    assert layout.scale_up_switch_power_w / layout.scale_up_domain == pytest.approx(full.switch_w)
    r = estimate_recsys("dlrm-medium", device, latency_slo_s=0.02)
    assert r.platform_power_w - r.power_w == pytest.approx(share)  # recsys
    power = _fleet_power_w(RANKING, device)  # fleet-mix's power objective: its pool's IT load per device
    assert _fleet_power_w(RANKING, device, full.host_w) == pytest.approx(power)  # a pool's host_power_w: the host
    assert power > load_accelerator(device).tdp_w + share  # the fabric and storage shares on top


@pytest.mark.parametrize("device", ["xeon-8480", "epyc-9654", "msvp"])
def test_video_and_its_fleet_pool_add_the_same_host(device):
    share = host_share(device).watts
    v = estimate_video(device, baseline="none")
    assert v.host_power_w == pytest.approx(share) and v.platform_power_w - v.power_w == pytest.approx(share)
    assert _fleet_power_w(VIDEO, device, share) == pytest.approx(_fleet_power_w(VIDEO, device))  # fleet-mix


def test_the_cost_models_it_load_carries_the_same_host_and_a_pools_override():
    """fleet-mix's TCO side built the generic node's host (MTIA v2: 73.8 W) while its power side used 46 W; and a
    pool's `host_power_w` moved only the power side."""
    for device in ("mtia-v2", "h100-sxm"):
        layout = Cluster.resolve(device).layout
        n = layout.accelerators_per_server
        site = device_site(device, cost_overrides(None, None, 1000.0, None))
        base = device_money(device, n, site)
        more = device_money(device, n, site, host_share(device).host_w + 100.0)
        same = device_money(device, n, site, host_share(device).host_w)
        assert same.it_w == pytest.approx(base.it_w)  # the default is the one host share
        assert more.it_w - base.it_w == pytest.approx(100.0 * n, rel=0.2)  # + misc power on the server watts


def test_precedence_and_sources():
    v1 = host_share("mtia-v1")  # own published platform: Yosemite V3, ~780 W for 12 accelerators of 25 W
    assert (v1.basis, v1.watts) == ("device", pytest.approx((780 - 12 * 25) / 12))
    assert "Yosemite V3" in v1.source and "780" in v1.source
    v2 = host_share("mtia-v2")
    assert v2.basis == "device" and v2.watts == 46.0 and "ASSUMPTION" in v2.source
    rack = host_share("mtia-400")  # its own ASSUMED figure, its catalog system's node's (hH47: stated, as MTIA 450's)
    assert (rack.basis, rack.host_w) == ("device", 300.0) and "mtia-400-rack" in rack.source
    node = load_system("mtia-400-rack").node
    assert rack.host_w == node.host_power_w / node.accelerators_per_node and "ASSUMPTION" in rack.source
    assert rack.switch_w == 3600.0 / 72 and rack.watts == 350.0  # its rack's ASSUMED switch trays, per chip (hH53)
    h100 = host_share("h100-sxm")  # DGX H100: 10.2 kW - 8 x 700 W
    assert (h100.basis, h100.watts) == ("system", pytest.approx((10200 - 8 * 700) / 8))
    tpu = host_share("tpu-v5p")  # neither: the stated generic rule
    assert tpu.basis == "generic rule" and tpu.watts == pytest.approx(0.82 * load_accelerator("tpu-v5p").tdp_w)
    for name in ("mtia-300", "mtia-450"):  # the MTIA family's one assumed tray, not the GPU-server rule
        s = host_share(name)
        assert s.host_w == host_share("mtia-400").host_w and "ASSUMPTION" in s.source
        assert s.switch_w == 0.0  # no catalog system of them: the generic node of 8, no switches outside it
    assert host_share("msvp").watts == 40.0 and "ASSUMPTION" in host_share("msvp").source


def test_a_what_if_copy_keeps_its_presets_host_share(tmp_path):
    f = tmp_path / "v2-hot.yaml"
    f.write_text("extends: mtia-v2\ntdp_w: 120W\n")
    acc = load_accelerator(str(f))
    assert host_share(acc).watts == 46.0
    assert estimate_recsys("dlrm-low", acc, batch=64).platform_power_w == pytest.approx(
        estimate_recsys("dlrm-low", acc, batch=64).power_w + 46.0)


def test_reference_system_is_the_largest_system_of_the_accelerator() -> None:
    from infraplan.catalog import list_presets, load_system
    from infraplan.cluster.host_share import reference_system

    for name in ("h100-sxm", "b200", "mtia-400", "mi300x"):
        ref = reference_system(name)
        assert ref is not None and ref.accelerator == name
        sizes = [load_system(s).total_accelerators for s in list_presets("systems")
                 if load_system(s).accelerator == name]
        assert ref.total_accelerators == max(sizes)
    # two H100 systems of 24,576: the tie goes to the later name, not the catalog's order
    assert reference_system("h100-sxm").name == "meta-genai-roce-24k"  # type: ignore[union-attr]
    assert reference_system("tpu-v5p") is None  # no catalog system of it


def test_accelerator_host_share_of_loaded_parts(tmp_path) -> None:
    from infraplan.cluster.host_share import accelerator_host_share

    h100 = accelerator_host_share(load_accelerator("h100-sxm"))
    assert (h100.basis, h100.watts) == ("system", 4600.0 / 8) and "meta-genai-roce-24k" in h100.source
    own = tmp_path / "own.yaml"  # a file's own figure wins over its preset's system node
    own.write_text("extends: h100-sxm\nhost_power_w: 300\nhost_source: ASSUMPTION test\n")
    got = accelerator_host_share(load_accelerator(str(own)))
    assert (got.basis, got.watts, got.source) == ("device", 300.0, "ASSUMPTION test")
    hot = tmp_path / "hot.yaml"  # a what-if keeps its preset's node (catalog_name), not its name
    hot.write_text("extends: h100-sxm\ntdp_w: 1000W\n")
    assert accelerator_host_share(load_accelerator(str(hot))).watts == h100.watts
    tpu = tmp_path / "tpu.yaml"  # no system: the generic rule on the file's own TDP
    tpu.write_text("extends: tpu-v5p\ntdp_w: 500W\n")
    generic = accelerator_host_share(load_accelerator(str(tpu)))
    assert generic.basis == "generic rule" and generic.watts == pytest.approx(0.82 * 500.0)
