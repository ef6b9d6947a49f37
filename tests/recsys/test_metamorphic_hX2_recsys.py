"""Metamorphic properties of `infraplan recsys` and the recsys services of `fleet-mix` (hX2, session 38).

A batch of more samples does at least the work of a smaller one (the same GEMMs with more rows, more embedding rows
read), so its latency is never lower; a looser latency SLO admits every batch a tighter one admits, so the best QPS
is never lower; a part with more HBM bandwidth or FLOP/s never takes longer over a batch; and a fleet asked for more
queries per second never needs fewer devices or less power. Drawn over the catalog (hypothesis, derandomized).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infraplan.catalog import list_presets, load_accelerator
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.recsys.estimate import estimate_recsys

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
REL = 1e-12
MODELS = list_presets("recsys")
DEVICES = ["mtia-v1", "mtia-v2", "a100-80gb", "h100-sxm", "h200", "b200", "xeon-8480", "epyc-9654", "mtia-400"]


@SETTINGS
@given(st.sampled_from(MODELS), st.sampled_from(DEVICES), st.integers(1, 2048), st.integers(2, 4))
def test_a_larger_batch_never_lowers_latency(model, device, batch, factor) -> None:
    small = estimate_recsys(model, device, batch=batch)
    large = estimate_recsys(model, device, batch=batch * factor)
    assert large.latency_s >= small.latency_s * (1 - REL)
    for term, seconds in small.breakdown_s.items():  # and no term of the batch time shrinks
        assert large.breakdown_s[term] >= seconds * (1 - REL), term


@SETTINGS
@given(st.sampled_from(MODELS), st.sampled_from(DEVICES), st.sampled_from([2e-3, 5e-3, 10e-3, 20e-3, 50e-3]),
       st.sampled_from([1.5, 2.0, 5.0]))
def test_a_looser_slo_never_lowers_the_best_qps(model, device, slo, factor) -> None:
    tight = estimate_recsys(model, device, latency_slo_s=slo)
    loose = estimate_recsys(model, device, latency_slo_s=slo * factor)
    if tight.meets_slo:
        assert loose.meets_slo and loose.qps >= tight.qps * (1 - REL)


@SETTINGS
@given(st.sampled_from(MODELS), st.sampled_from([d for d in DEVICES if d != "xeon-8480" and d != "epyc-9654"]),
       st.sampled_from([1, 64, 512, 4096]), st.sampled_from([1.25, 2.0]),
       st.sampled_from(["memory_bandwidth_bytes_per_s", "peak_flops_per_s"]))
def test_a_faster_part_never_lowers_qps(model, device, batch, factor, field) -> None:
    """The same part (its name, so its recsys profile) with one figure scaled, as a what-if file does."""
    acc = load_accelerator(device)
    if field == "memory_bandwidth_bytes_per_s":
        faster = acc.model_copy(update={field: acc.memory_bandwidth_bytes_per_s * factor})
    else:
        faster = acc.model_copy(update={field: {d: p * factor for d, p in acc.peak_flops_per_s.items()}})
    base, fast = estimate_recsys(model, acc, batch=batch), estimate_recsys(model, faster, batch=batch)
    assert fast.latency_s <= base.latency_s * (1 + REL)
    assert fast.latency_s >= base.latency_s / factor * (1 - REL)  # one figure x f: at most f times faster
    assert fast.qps >= base.qps * (1 - REL)


def _fleet(qps: float, pools: list[dict]) -> FleetSpec:
    return FleetSpec.model_validate({
        "name": "hX2", "objective": "power",
        "services": [{"name": "ranking", "kind": "recsys", "model": "dlrm-medium", "qps": qps, "latency_slo": 0.02}],
        "pools": pools})


POOLS = [{"name": "mtia", "device": "mtia-v2", "capex_usd": 9000},
         {"name": "h100", "device": "h100-sxm", "capex_usd": 42000}]


@settings(max_examples=8, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([1e6, 2e7, 3e8]), st.sampled_from([1.3, 2.0, 7.0]), st.sampled_from([0, 1]))
def test_more_queries_per_second_never_need_fewer_devices_or_less_power(qps, factor, pool) -> None:
    """One pool: the devices are ceil(QPS / QPS per device) rounded to servers; two pools: the MILP's power optimum
    over a larger demand is at least the optimum over the smaller (every mix serving more serves less)."""
    one = [POOLS[pool]]
    low, high = plan_fleet(_fleet(qps, one)), plan_fleet(_fleet(qps * factor, one))
    assert high.totals.devices >= low.totals.devices
    assert high.totals.power_w >= low.totals.power_w
    low2, high2 = plan_fleet(_fleet(qps, POOLS)), plan_fleet(_fleet(qps * factor, POOLS))
    assert high2.solver["objective_value"] >= low2.solver["objective_value"] * (1 - 1e-9)
