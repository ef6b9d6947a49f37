"""One idle figure per part (cluster/power.py `idle_power`): facility, serve and recsys read the same one.

Before (session 44): one accelerator idled at three figures by command where its file gives none: the power chain
10 % of TDP (MI300X 75 W), serve 20 % (150 W) and recsys the TDP itself (750 W, so a half-busy device drew its TDP).
"""

from __future__ import annotations

import pytest
from tests.cli.conftest import cli_json

from infraplan.catalog import list_presets, load_accelerator
from infraplan.cluster import Cluster
from infraplan.cluster.power import DEFAULT_IDLE_FRACTION, accelerator_power_w, idle_power
from infraplan.recsys.estimate import device_power_w, estimate_recsys
from infraplan.serving.serving_metrics import power_terms

# a part with a catalog idle figure, a GPU and an ASIC without one (the default rule)
PARTS = [("h100-sxm", "dgx-h100-superpod", "catalog"), ("mi300x", "mi300x-cluster", "default"),
         ("mtia-v2", None, "default")]


@pytest.mark.parametrize(("device", "system", "rule"), PARTS)
def test_facility_serve_and_recsys_idle_at_one_figure(device, system, rule):
    acc = load_accelerator(device)
    idle = idle_power(acc)
    assert idle.rule == rule
    cluster = Cluster.resolve(system or device)
    assert float(accelerator_power_w(acc, 0.0)) == pytest.approx(idle.watts)  # facility / plan's power chain
    assert power_terms(cluster.accelerator, cluster.system)[0] == pytest.approx(idle.watts)  # serve, serve-plan
    assert device_power_w(acc, 0.0) == pytest.approx(idle.watts)  # recsys
    # each consumer keeps its own dynamic model on top: all three reach the TDP fully busy
    assert float(accelerator_power_w(acc, 1.0)) == pytest.approx(acc.tdp_w)
    assert device_power_w(acc, 1.0) == pytest.approx(acc.tdp_w)


@pytest.mark.parametrize(("device", "system"), [("h100-sxm", "dgx-h100-superpod"), ("mi300x", "mi300x-cluster")])
def test_each_answer_names_the_idle_figure_it_used(capsys, device, system):
    basis = idle_power(load_accelerator(device)).basis
    facility = cli_json(capsys, ["facility", "--system", system])
    assert basis in facility["assumptions"]["power"]
    serve = cli_json(capsys, ["serve", "llama3-8b", "--system", system, "--gpus", "1", "--dtype", "fp8",
                              "--offline", "--input-len", "128", "--output-len", "16", "--requests", "8"])
    assert basis in serve["assumptions"]["power"]
    recsys = cli_json(capsys, ["recsys", "dlrm-low", "--accelerator", device, "--batch", "64"])
    assert basis in recsys["assumptions"]["power"]


def test_the_default_rule_is_a_share_of_tdp_and_says_so():
    for device in ("mi300x", "b200", "mtia-v2", "xeon-8480"):
        acc = load_accelerator(device)
        idle = idle_power(acc)
        assert idle.watts == pytest.approx(DEFAULT_IDLE_FRACTION * acc.tdp_w)
        assert "ASSUMPTION" in idle.basis and f"{acc.tdp_w:.4g} W" in idle.basis
    h100 = idle_power(load_accelerator("h100-sxm"))
    assert (h100.rule, h100.watts) == ("catalog", 75.0)
    assert "idle_power_w" in h100.basis and "ASSUMPTION" in h100.basis  # labelled with its reasoning (hH47)


def test_recsys_draws_less_than_tdp_when_not_fully_busy():
    """Recsys took the TDP as its idle figure: a device drew its TDP at any busy fraction. TPU v6e on dlrm-low at
    20 ms is host-link bound (busy < 1): its draw is idle + (TDP - idle) x busy, below the TDP."""
    r = estimate_recsys("dlrm-low", "tpu-v6e", latency_slo_s=0.02)
    acc = load_accelerator("tpu-v6e")
    assert r.busy_fraction < 0.9
    idle = DEFAULT_IDLE_FRACTION * acc.tdp_w  # tpu-v6e gives no idle figure
    assert r.power_w == pytest.approx(idle + (acc.tdp_w - idle) * r.busy_fraction)
    assert r.power_w < acc.tdp_w


def test_every_catalog_idle_figure_names_its_source():
    with_figure = [a for a in map(load_accelerator, list_presets("accelerators")) if a.idle_power_w is not None]
    assert {a.name for a in with_figure} >= {"h100-sxm", "a100-80gb", "h200", "h800"}
    for acc in with_figure:
        assert acc.idle_power_source, f"{acc.name}: idle_power_w without idle_power_source"
        assert acc.idle_power_source in idle_power(acc).basis
