"""Mutation wave 2 (hM18, session 43) on hL45's spare trays per pool / auto, `capex_new` and the idle pool stack.

GB200 NVL72 (18 trays of 4 GPUs in a domain) as in test_pool_trays_money_stack_hL45.py; the expected values here are
relations between runs (auto against every fixed count) or the field's stated range, not the model's own output."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from infraplan.planning.scenario_report import capex_new, idle_stacks
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.spares import DEFAULT_REPAIR_S, Instance, Spares, SpareTrays, spare_nodes

TRAYS = TypeAdapter(SpareTrays)


def _gb200(k: int | str, devices: int, instance: int) -> Spares:
    return spare_nodes(devices, 4, "gb200", 0.99, DEFAULT_REPAIR_S, domain_devices=72, spare_trays=k,
                       instance=Instance(instance, f"{instance}-GPU instance"))


def test_the_field_is_a_count_0_to_64_or_auto() -> None:
    """The field's range as written (0 .. 64, the policy field's bound before it took auto); a boolean is no count
    (pydantic's int would read True as 1)."""
    assert [TRAYS.validate_python(v) for v in (0, 64, "64", 3.0, "auto")] == [0, 64, 64, 3, "auto"]
    for bad in (65, -1, True, False, 2.5, "two"):
        with pytest.raises(ValidationError, match="count 0 .. 64 or auto"):
            TRAYS.validate_python(bad)


def test_auto_tries_every_count_below_the_domains_trays() -> None:
    """auto: 0 .. T - 1 (T = 18 trays in an NVL72 domain), the counts the basis line names."""
    assert _gb200("auto", 72, 72).tray_choices == tuple(range(18))
    assert _gb200(3, 72, 72).tray_choices == (3,)


@pytest.mark.parametrize(("instance", "devices"), [(16, 16), (16, 144), (8, 16), (36, 36)])
def test_auto_takes_the_smallest_count_of_a_tie(instance: int, devices: int) -> None:
    """Where several fixed counts give the fewest spare servers, auto names the smallest of them (module docstring:
    "the smallest s of a tie"): found here from the 18 fixed runs, and the case must hold a tie."""
    fixed = [_gb200(k, devices, instance).spare_nodes for k in range(18)]
    tied = [k for k, n in enumerate(fixed) if n == min(fixed)]
    assert len(tied) > 1
    auto = _gb200("auto", devices, instance)
    assert auto.spare_nodes == min(fixed)
    assert f"spare_trays_per_domain auto: {tied[0]}, of 0 .. 17" in auto.rate_basis


def test_auto_on_a_one_server_domain_says_there_is_nothing_to_hold() -> None:
    """H100 SXM: the scale-up domain is one 8-GPU server, so auto has only 0 to take, and says why."""
    s = spare_nodes(64, 8, "h100-sxm", 0.99, DEFAULT_REPAIR_S, spare_trays="auto")
    assert s.tray_choices == (0,)
    assert "spare_trays_per_domain auto: 0, the scale-up domain is one server" in s.rate_basis
    assert s.spare_nodes == spare_nodes(64, 8, "h100-sxm", 0.99, DEFAULT_REPAIR_S).spare_nodes


def test_money_spent_without_a_price_before_is_null() -> None:
    """No price for the fleet before the phase: no figure for what the phase spends (not its whole capex)."""
    assert capex_new(5.0, None) is None and capex_new(None, None) is None


def test_a_pool_at_a_site_online_later_than_the_demand_has_an_idle_stack() -> None:
    """chat asks for capacity in 2025 only; the pool is delivered any year but its site comes online in 2026, so
    the pool is never in a phase with LLM demand: its stack is unused."""
    spec = ScenarioSpec.model_validate({
        "name": "late-site", "phases": [{"name": "2025", "year": 2025}, {"name": "2026", "year": 2026}],
        "services": [{"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 5,
                      "dtypes": ["bf16"], "phases": ["2025"]}],
        "pools": [{"name": "now", "device": "h100-sxm", "site": "ohio", "stack": "vllm"},
                  {"name": "late", "device": "h100-sxm", "site": "texas", "stack": "vllm"}],
        "sites": [{"name": "ohio", "power": "300MW", "location": "ohio"},
                  {"name": "texas", "power": "300MW", "location": "texas", "online_year": 2026}],
        "policy": {}})
    (line,) = idle_stacks(spec)
    assert line.startswith("pool late: stack vllm is unused") and line.endswith("(2026)")


@pytest.mark.parametrize(("device", "devices"), [("h100-sxm", 8), ("h100-sxm", 100), ("gb200", 1000)])
def test_n_plus_k_adds_k_whole_racks(device: str, devices: int) -> None:
    """`packed` (split into `_money` by hL45): the policy's redundancy_racks k are k racks of the pool's devices
    beside the packed count, no device more (an 8-GPU H100 server, 16 a rack; a 72-GPU GB200 rack)."""
    from infraplan.planning.pool_money import pool_money
    from infraplan.planning.scenario_report import packed

    spec = ScenarioSpec.model_validate({
        "name": "nk", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "1M", "latency_slo": "10ms"}],
        "pools": [{"name": "p", "device": device, "site": "ohio"}],
        "sites": [{"name": "ohio", "power": "300MW", "location": "ohio"}], "policy": {"redundancy_racks": 2}})
    alone = pool_money(spec, spec.pools[0], spec.sites[0], devices)
    with_racks = packed(spec, spec.pools[0], devices)
    assert with_racks.devices == alone.devices + 2 * alone.devices_per_rack
    assert with_racks.racks == alone.racks + 2
