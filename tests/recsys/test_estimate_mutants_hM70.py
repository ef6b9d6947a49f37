"""A recsys part's generic host share is said once (hM70 mutation wave on hX67's `figure_lines(pool=...)`: the pool's
lines and `recsys`'s own could both carry it, or neither, and every test passed, since MTIA parts carry their own
host figure). TPU v5p has none (`cluster.host_share`'s generic rule, 0.82 x TDP: 287 W for its 350 W): `recsys` on it
prices that share and says so in its `figures_note`; a fleet pool of it prices the pool's share, said in the pool's
own `figures_note` line (planning/device_money.pool_generic_note), so the service's `notes` leave it out."""

from __future__ import annotations

from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.recsys.estimate import estimate_recsys

HOST = "287 of the 287 W per TPU of host and scale-up switches is ASSUMED (287 W of host by Epoch AI's GPU-server rule"
EARLY = {"name": "early", "kind": "recsys", "model": "dlrm-medium", "qps": "4M", "latency_slo": "20ms"}


def test_recsys_alone_says_the_generic_host_share():
    note = estimate_recsys("dlrm-medium", "tpu-v5p", latency_slo_s=0.02).figures_note
    assert note is not None and note.count(HOST) == 1


def test_a_fleet_pool_says_it_once_in_its_own_line_not_the_services():
    r = plan_fleet(FleetSpec(services=[EARLY], pools=[{"name": "t", "device": "tpu-v5p",
                                                       "price_usd_per_device": 20000}]))
    assert r.notes and not any(HOST in n for n in r.notes), r.notes
    assert r.figures_note is not None and r.figures_note.count(HOST) == 1
