"""Spares by scale-up domain (hF42, session 42; planning/spares.py, facility/outage.py).

On an NVL72 pool (18 trays of 4 in one 72-device NVLink domain) a failed tray takes its domain out of a job laid
out across it, so spares are whole domains: the Poisson quantile of domains x E[(X - k)+], X ~ Poisson(m) the trays
in repair in one domain, k the policy's spare trays per domain (default 0, an ASSUMPTION option). By hand at
llama3-h100's out-of-service rate and the 3-day repair: m = 18 x 3.789 / 1,000 / 8 / 24 x 4 x 321 / 419 x 72 =
0.0784; 16,384 GPUs on 228 domains: mean 17.9 domains out, 28 spare domains at 0.99 (504 trays, 2,016 GPUs);
one spare tray per domain: 241 domains of 68 working GPUs, mean 241 x (m - 1 + e^-m) = 0.71 out, 3 spare domains,
so 3 x 18 + 241 = 295 spare trays (1,180 GPUs); two: 256 domains, 1 spare domain, 18 + 512 = 530 trays.
An 8-GPU server that is its own domain keeps the node formula bit for bit.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from scipy.stats import poisson

from infraplan.cli.main import main
from infraplan.planning.pool_money import pool_spares
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.spares import DEFAULT_REPAIR_S, spare_nodes, spare_servers

M = 18 * 3.789 / 1000 / 8 / 24 * 4 * 321 / 419 * 72.0
SCENARIO = {"name": "gb-spares", "phases": [{"name": "2026", "year": 2026}],
            "services": [{"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "100M",
                          "latency_slo": "10ms"}],
            "pools": [{"name": "gb", "device": "gb200", "site": "ohio"}],
            "sites": [{"name": "ohio", "power": "300MW", "location": "ohio"}]}


TRAINING = {"name": "run", "kind": "training", "model": "llama3-8b", "tokens": "1T", "gpus": 64, "seq_len": 4096,
            "global_batch": 256}


def _spec(services: list[dict[str, object]] | None = None, **policy: object) -> ScenarioSpec:
    return ScenarioSpec.model_validate({**SCENARIO, "services": services or SCENARIO["services"],
                                        "policy": {"spare_probability": 0.99, **policy}})


def test_nvl72_spares_are_whole_domains_by_hand() -> None:
    s = spare_nodes(16384, 4, "gb200", 0.99, DEFAULT_REPAIR_S, domain_devices=72)
    assert (s.domain_trays, s.spare_units, s.spare_nodes, s.spare_devices) == (18, 28, 504, 2016)
    assert int(poisson.ppf(0.99, 228 * M)) == 28 and s.expected_nodes_down == pytest.approx(228 * M * 18)
    one = spare_nodes(16384, 4, "gb200", 0.99, DEFAULT_REPAIR_S, domain_devices=72, spare_trays=1)
    assert 241 * (M - 1 + math.exp(-M)) == pytest.approx(one.expected_nodes_down / 18)
    assert (one.spare_units, one.spare_nodes) == (3, 3 * 18 + 241)
    two = spare_nodes(16384, 4, "gb200", 0.99, DEFAULT_REPAIR_S, domain_devices=72, spare_trays=2)
    assert (two.spare_units, two.spare_nodes) == (1, 18 + 2 * 256)
    assert one.spare_devices < s.spare_devices < two.spare_devices  # one spare tray per domain holds the fewest
    assert ("takes its 72-device scale-up domain (18 servers) out (what the pool runs is not known: the whole "
            "domain, conservative): spares are whole domains") in s.rate_basis
    assert "counted on h100-sxm, not gb200: no published failure rate of gb200" in s.rate_basis
    assert "repair 3 days (ASSUMPTION [U]" in s.rate_basis


def test_a_server_that_is_its_own_domain_keeps_the_node_formula() -> None:
    node = spare_nodes(16384, 8, "h100-sxm", 0.99, DEFAULT_REPAIR_S)
    assert spare_nodes(16384, 8, "h100-sxm", 0.99, DEFAULT_REPAIR_S, domain_devices=8) == node
    assert node.expected_nodes_down == 2048 * node.node_failures_per_hour * DEFAULT_REPAIR_S / 3600.0
    assert (node.spare_nodes, node.domain_trays) == (28, 1) and "counted on" not in node.rate_basis
    kept = spare_nodes(16384, 8, "h100-sxm", 0.99, DEFAULT_REPAIR_S, domain_devices=8, spare_trays=2)
    assert kept.spare_nodes == 28 and "spare_trays_per_domain 2 does not apply" in kept.rate_basis


@pytest.mark.parametrize("node,domain,accelerator,kept", [(4, 72, "gb200", 0), (4, 72, "gb200", 1),
                                                          (4, 72, "mtia-400", 2), (8, 8, "h100-sxm", 0)])
def test_the_bounds_array_twin_equals_spare_nodes(node: int, domain: int, accelerator: str, kept: int) -> None:
    one = spare_nodes(node, node, accelerator, 0.99, DEFAULT_REPAIR_S, domain_devices=domain, spare_trays=kept)
    counts = np.arange(0, 3000, 7)
    twin = spare_servers(counts, one, 0.99)
    assert [int(x) for x in twin] == [spare_nodes(int(n) * node, node, accelerator, 0.99, DEFAULT_REPAIR_S,
                                                  domain_devices=domain, spare_trays=kept).spare_nodes
                                      for n in counts]


def test_a_plan_pool_on_nvl72_sizes_spares_by_domain() -> None:
    # a training job spans its pool's domains (hF43: a pool of small instances loses only its own trays,
    # tests/planning/test_blast_radius_by_instance_hF43.py)
    spec = _spec(services=[TRAINING])
    sp = pool_spares(spec, spec.pools[0], 4)
    assert sp is not None and (sp.domain_trays, sp.blast_trays, sp.spare_units, sp.spare_nodes) == (18, 18, 1, 18)
    kept = _spec(services=[TRAINING], spare_trays_per_domain=1)
    sp1 = pool_spares(kept, kept.pools[0], 4)
    assert sp1 is not None and (sp1.spare_trays_per_domain, sp1.spare_units, sp1.spare_nodes) == (1, 0, 1)
    row = plan_scenario(spec).pools[0]
    assert row.spare_nodes == 18 and row.devices == 64 + 72  # 16 trays used, one spare domain
    assert ("out (the pool's widest instance spans it: training service run's job spans the pool): spares are "
            "whole domains") in (row.spare_rate_basis or "")


def test_spare_trays_are_refused_in_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="spare_trays_per_domain is a spares policy"):
        ScenarioSpec.model_validate({**SCENARIO, "policy": {"spare_trays_per_domain": 1}})
    scenario = tmp_path / "plan.yaml"
    scenario.write_text(_spec(spare_trays_per_domain=18).model_dump_json())
    assert main(["plan", str(scenario), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "must be in 0 .. 17" in err
    assert "Traceback" not in err


def test_a_plan_training_row_on_gb200_says_its_goodput_borrows_the_h100_rate() -> None:
    plan = plan_scenario(ScenarioSpec.model_validate({
        "name": "one-run", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "run", "kind": "training", "model": "llama3-8b", "tokens": "1T", "gpus": 64,
                      "seq_len": 4096, "global_batch": 256}],
        "pools": [{"name": "gb", "device": "gb200", "site": "s"}],
        "sites": [{"name": "s", "power": "100MW", "location": "ohio"}]}))
    (note,) = [n for n in plan.notes if n.startswith("run on gb")]  # beside it: the part-filled domain's (hN52)
    assert note.startswith("run on gb: goodput counts planned interruptions at 0.87 per day per job")
    assert note.endswith("failure rate llama3-h100 was counted on h100-sxm, not gb200: no published failure rate "
                         "of gb200 was found, so h100-sxm's rate per GPU and its cause mix (Llama 3 Table 5) are "
                         "used (ASSUMPTION [U])")
