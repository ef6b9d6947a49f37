"""Mutation wave hM80 (session 50): the flow model's run check (`flow_schedules.check_flow_run`) and its flow
counts, on rules its docstrings state: an estimate past FLOW_SIM_WARN_S is said first, one past FLOW_SIM_MAX_S is
refused (at either bound exactly: neither); a schedule's phases run one after another, so their estimates add; the
line names the rate that set the estimate (the flows' own work, or an all-to-all's filling rounds where those cost
more). The measured rates are replaced here by made-up round ones (1 s a flow, 1 s a link-round) so the bounds fall
on whole numbers; the flow counts use the module's rule of whole stripes over a GPU's NICs."""

from __future__ import annotations

import pytest
from flow_toy_fabric import TOY

from infraplan.catalog import load_system
from infraplan.errors import InputError
from infraplan.network import flow_sim
from infraplan.network.flow_schedules import check_flow_run
from infraplan.network.flow_sim import inter_domain_flows_per_pair
from infraplan.network.topology import build_topology


@pytest.fixture
def round_rates(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(flow_sim, "FLOW_SIM_SECONDS_PER_FLOW", 1.0)
    monkeypatch.setattr(flow_sim, "FLOW_SIM_SECONDS_PER_LINK_ROUND", 1.0)
    monkeypatch.setattr(flow_sim, "FLOW_SIM_WARN_S", 60.0)
    monkeypatch.setattr(flow_sim, "FLOW_SIM_MAX_S", 600.0)
    return []


def test_an_estimate_at_the_warning_is_not_said_and_past_it_is(round_rates: list[str]) -> None:
    check_flow_run([60], 0.0, 2, round_rates.append)
    assert round_rates == []
    check_flow_run([61], 0.0, 2, round_rates.append)
    assert len(round_rates) == 1 and "61 flows may take about 61 s" in round_rates[0]


def test_an_estimate_at_the_bound_runs_and_past_it_is_refused(round_rates: list[str]) -> None:
    check_flow_run([600], 0.0, 2, round_rates.append)
    assert len(round_rates) == 1  # said, not refused
    with pytest.raises(InputError, match="over the 10 min bound"):
        check_flow_run([601], 0.0, 2, round_rates.append)


def test_the_phases_estimates_add(round_rates: list[str]) -> None:
    """Two phases of 40 flows: 80 s in all, past the 60 s warning though neither phase is."""
    check_flow_run([40, 40], 0.0, 2, round_rates.append)
    assert len(round_rates) == 1 and "80 flows may take about 80 s" in round_rates[0]


def test_the_line_names_the_rate_that_set_the_estimate(round_rates: list[str]) -> None:
    """100 flows (100 s) and 30 link-rounds (30 s): the flows' work sets it; 110 link-rounds (110 s): the rounds."""
    check_flow_run([100], 30.0, 2, round_rates.append)
    check_flow_run([100], 110.0, 2, round_rates.append)
    assert "us per flow" in round_rates[0] and "filling rounds" not in round_rates[0]
    assert "filling rounds over the links" in round_rates[1] and "about 110 s" in round_rates[1]


def test_flows_between_domains_fill_whole_stripes_over_a_gpus_nics(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """TOY with 16 NICs for 8 GPUs (2 a GPU): 3 ECMP flows a pair round up to 4 (two stripes of 2), 1 to 2; with
    one NIC a GPU (TOY itself) 3 stay 3."""
    two = tmp_path / "two_nics.yaml"
    two.write_text(TOY.replace("nics_per_node: 8", "nics_per_node: 16"))
    topo = build_topology(load_system(str(two)))
    assert (topo.nics_per_node, topo.gpus_per_node) == (16, 8)
    assert [inter_domain_flows_per_pair(topo, f) for f in (1, 2, 3, 4)] == [2, 2, 4, 4]
    one = tmp_path / "toy.yaml"
    one.write_text(TOY)
    assert inter_domain_flows_per_pair(build_topology(load_system(str(one))), 3) == 3
