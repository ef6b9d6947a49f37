"""`infraplan plan`: spare nodes from the reliability model and image-generation demand."""

from __future__ import annotations

import math

import pytest
from scipy.stats import poisson

from infraplan.catalog.reliability_loader import load_failure_rate
from infraplan.catalog.serving_loader import load_workload
from infraplan.errors import InputError
from infraplan.planning.image_capacity import image_capacity
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.spares import DEFAULT_REPAIR_S, poisson_quantile, spare_nodes
from infraplan.serving.diffusion import estimate_image_serving


def _spec(services: list[dict], policy: dict | None = None, pools: list[dict] | None = None) -> ScenarioSpec:
    return ScenarioSpec.model_validate({
        "name": "t", "phases": [{"name": "2025", "year": 2025}], "services": services,
        "pools": pools or [{"name": "h100", "device": "h100-sxm", "system": "dgx-h100-superpod", "site": "a"}],
        "sites": [{"name": "a", "power": "200MW", "location": "ohio", "cooling": "air"}], "policy": policy or {}})


RANK = {"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "200M", "latency_slo": "10ms"}
IMAGES = {"name": "imagine", "kind": "image", "rate": 100}


def test_poisson_quantile() -> None:
    # Poisson(2): P(<= 5) = 0.983, P(<= 6) = 0.9955
    assert poisson_quantile(2.0, 0.99) == 6
    assert poisson_quantile(2.0, 0.98) == 5
    assert poisson_quantile(0.0, 0.999) == 0
    with pytest.raises(InputError):
        poisson_quantile(1.0, 1.0)


def test_spare_nodes_follow_the_failure_rate_and_repair_time() -> None:
    """16,384 H100 in 8-GPU nodes at Llama 3's 3.789 job interruptions per 1,000 node-days, 321 of 419 of which
    take a node out of service (hF41), 3-day repair: 2,048 x 3.789e-3 x 321 / 419 x 3 = 17.8 nodes down on
    average; spares = its 99 % Poisson quantile."""
    s = spare_nodes(16384, 8, "h100-sxm", 0.99, DEFAULT_REPAIR_S)
    assert s.nodes == 2048 and s.failure_rate == "llama3-h100"
    assert s.expected_nodes_down == pytest.approx(2048 * 3.789e-3 * 321 / 419 * 3, rel=1e-9)
    assert s.spare_nodes == int(poisson.ppf(0.99, s.expected_nodes_down)) and s.spare_nodes > s.expected_nodes_down
    assert s.spare_devices == 8 * s.spare_nodes
    longer = spare_nodes(16384, 8, "h100-sxm", 0.99, 2 * DEFAULT_REPAIR_S)
    assert longer.expected_nodes_down == pytest.approx(2 * s.expected_nodes_down)
    assert longer.spare_nodes > s.spare_nodes
    assert spare_nodes(16384, 8, "h100-sxm", 0.999, DEFAULT_REPAIR_S).spare_nodes > s.spare_nodes
    rsc = spare_nodes(16384, 8, "a100-80gb", 0.99, DEFAULT_REPAIR_S)  # RSC-1's 6.50 per 1,000 node-days
    assert rsc.node_failures_per_hour == pytest.approx(load_failure_rate("rsc-1").per_accelerator_hour * 8)
    assert rsc.spare_nodes > s.spare_nodes


def test_plan_adds_spare_nodes_and_shows_their_source() -> None:
    bare = plan_scenario(_spec([RANK]))
    spared = plan_scenario(_spec([RANK], {"spare_probability": 0.99, "repair_time": "5d"}))
    used = next(r for r in spared.services if r.service == "rank").devices
    row = spared.pools[0]
    ref = spare_nodes(used, 8, "h100-sxm", 0.99, 5 * 86400.0)
    assert row.spare_nodes == ref.spare_nodes > 0 and row.spare_devices == 8 * ref.spare_nodes
    assert row.devices >= used + row.spare_devices and bare.pools[0].spare_nodes == 0
    assert row.devices > bare.pools[0].devices and spared.capex_usd > bare.capex_usd
    assert row.repair_time_s == 5 * 86400.0 and row.failure_rate_source and "Llama 3" in row.failure_rate_source
    assert bare.pools[0].failure_rate_source is None


def test_spares_beyond_availability_are_a_warning() -> None:
    pools = [{"name": "h100", "device": "h100-sxm", "system": "dgx-h100-superpod", "site": "a"}]
    need = plan_scenario(_spec([RANK], pools=pools)).pools[0].devices
    pools[0]["available"] = need
    plan = plan_scenario(_spec([RANK], {"spare_probability": 0.999}, pools))
    assert any("spares" in w and "available" in w for w in plan.warnings)


def test_image_devices_equal_the_diffusion_capacity() -> None:
    """Images/s per H100 = the highest Poisson rate whose p99 image latency meets the workload's 5 s SLO in the
    diffusion serving model; the plan buys ceil(demand / that) devices."""
    cap = image_capacity("image-generation", None, "dgx-h100-superpod", None)
    assert not isinstance(cap, str)
    wl = load_workload("image-generation")
    at = estimate_image_serving(wl, "dgx-h100-superpod", 1, rate=cap.images_per_s, requests=1000,
                                max_batch=cap.max_batch, seed=0)
    assert at["e2e_s"]["p99"] <= 5.0
    assert cap.images_per_s <= cap.offline_images_per_s * (1 + 1e-9)
    plan = plan_scenario(_spec([IMAGES]))
    row = next(r for r in plan.services if r.service == "imagine")
    assert row.devices == math.ceil(100 / cap.images_per_s) and row.demand_unit == "images/s"
    assert 0.0 <= (row.slo_headroom or -1.0) < 1.0


def test_tighter_image_slo_needs_more_devices() -> None:
    loose = plan_scenario(_spec([IMAGES]))
    tight = plan_scenario(_spec([{**IMAGES, "latency_slo": "0.5s"}]))
    assert tight.devices > loose.devices


def test_images_per_day_becomes_a_peak_rate() -> None:
    plan = plan_scenario(_spec([{"name": "imagine", "kind": "image", "images_per_day": "8.64M",
                                 "peak_to_average": 2.0}]))
    assert plan.services[0].demand == pytest.approx(200.0)


def test_bad_image_services() -> None:
    with pytest.raises(ValueError, match="exactly one of rate"):
        _spec([{"name": "i", "kind": "image"}])
    with pytest.raises(InputError, match="not image generation"):
        plan_scenario(_spec([{**IMAGES, "workload": "chat"}]))
    cpu = [{"name": "cpu", "device": "xeon-8480", "site": "a", "price_usd_per_device": 14000}]
    with pytest.raises(InputError, match="does not run image generation"):
        plan_scenario(_spec([IMAGES], pools=cpu))

