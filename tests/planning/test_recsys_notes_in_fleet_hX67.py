"""fleet-mix and plan say what a recsys service's QPS per device assumes (hX67): `recsys`'s `figures_note` lines for
the service's model on each pool it is given, but the two the pool's own lines already say (the part's figures'
standing in `figures_note`, its host share in the pool's note: its power is the pool's), each line once, naming
every (service, pool) pair it holds for, as a video service's notes are (hX60). Before, both answers dropped them:
an MTIA 400 pool ranked with "generative-AI inference" parts' figures and an assumed vector rate without a word."""

from __future__ import annotations

from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.recsys.estimate import estimate_recsys

EARLY = {"name": "early", "kind": "recsys", "model": "dlrm-medium", "qps": "4M", "latency_slo": "20ms"}
LATE = {"name": "late", "kind": "recsys", "model": "dlrm-high", "qps": "400K", "latency_slo": "100ms"}
MTIA = {"name": "m4", "device": "mtia-400", "price_usd_per_device": 30000}
SITE = {"name": "s", "power": "100MW", "location": "us-average", "cooling": "liquid"}


def _own(model: str, slo_s: float) -> str:
    """`recsys`'s figures_note for `model` on MTIA 400 at the SLO (its lines joined by '; ')."""
    note = estimate_recsys(model, "mtia-400", latency_slo_s=slo_s).figures_note
    assert note is not None
    return note


def test_fleet_mix_says_a_recsys_pools_assumptions_once_naming_both_services() -> None:
    r = plan_fleet(FleetSpec(services=[EARLY, LATE], pools=[MTIA]))
    assert {a["service"] for a in r.assignment} == {"early", "late"}
    labels = "early on m4, late on m4: "
    recsys = [n for n in r.notes if n.startswith(labels)]  # one part, one dtype: the same lines for both
    # the rest is the pool's own part-filled scale-up domain line (hU67: plan's note, said by fleet-mix too)
    assert recsys and all(n.startswith("pool m4: ") for n in r.notes if n not in recsys)
    for note in recsys:  # each a line of `recsys`'s own answer for either model
        assert note[len(labels):] in _own("dlrm-medium", 0.02) and note[len(labels):] in _own("dlrm-high", 0.1)
    assert sum("vector (element-wise) rate ASSUMED" in n for n in r.notes) == 1
    assert sum("is described by its source for generative-AI inference" in n for n in r.notes) == 1
    assert len(r.notes) == len(set(r.notes))
    # the part's standing is the pool's line (figures_note), not repeated per service
    assert r.figures_note is not None and "SECONDARY figures" in r.figures_note and "SECONDARY" in _own(
        "dlrm-medium", 0.02)
    assert not any("SECONDARY figures" in n for n in r.notes)


def test_plan_says_the_same_recsys_lines_as_fleet_mix() -> None:
    fleet = plan_fleet(FleetSpec(services=[EARLY, LATE], pools=[MTIA]))
    plan = plan_scenario(ScenarioSpec(name="rank", phases=[{"name": "y", "year": 2026}], services=[EARLY, LATE],
                                      pools=[{**MTIA, "site": "s"}], sites=[SITE]))
    lines = [n for n in fleet.notes if n.startswith(("early on m4", "late on m4"))]
    assert lines
    assert [n for n in plan.notes if n.startswith(("early on m4", "late on m4"))] == lines


def test_a_gpu_pool_with_its_own_vector_rate_adds_no_recsys_line() -> None:
    # H100's recsys profile names its vector rate and its figures are a datasheet's: nothing assumed to say
    assert estimate_recsys("dlrm-medium", "h100-sxm", latency_slo_s=0.02).figures_note is None
    r = plan_fleet(FleetSpec(services=[EARLY], pools=[{"name": "h", "device": "h100-sxm",
                                                       "price_usd_per_device": 42000}]))
    assert r.notes == []
