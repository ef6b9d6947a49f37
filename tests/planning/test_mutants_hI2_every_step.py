"""hI2 (session 68): the purchase bound's steps past the base by hB68's stated rule (planning/purchase_bound.py
`least_increments`, `EVERY_STEP`; adapted from hI68's first-step file, whose rule hB68 replaced).

On plan-refresh (one H100 pool, a base of 8 servers, no spares) the increments F(n) - F(n - 1) of the module's own
capex of n whole servers (`packed`), less the least one ($337,200 = 8 x $42,150), are 25,000 at the 1st server, 0 to
the 8th, then 387,800 (the 9th server's 4 rail leaves and 2 spines), 29,200 x 7, 224,800 (the 17th), 14,000 and
74,800 (the 21st, 25th). The rule: one row (pool, t, F(t + 1) - F(t) - the least, the most servers) per count
t >= the base whose excess is > 0, the `STEPS_PER_POOL` largest; none where an increment is negative (the
argument needs every increment >= the least) or where the base is the most the plan reaches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from infraplan.planning import purchase_bound
from infraplan.planning.bound_columns import spare_lines
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_report import packed
from infraplan.planning.scenario_spec import ScenarioSpec, load_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True)
def _least_is_the_smallest(monkeypatch: pytest.MonkeyPatch) -> None:
    """hB68's rule as stated: the least is the smallest increment (hB71's dips credited below a higher least are
    tests/planning/test_purchase_bound_dips_hB71.py's)."""
    monkeypatch.setattr(purchase_bound, "DIPS_PER_POOL", 0)


def _spec(capex: bool = False, **policy: Any) -> ScenarioSpec:
    spec = load_scenario(str(EXAMPLES / "plan-refresh.yaml"))
    update = {"objective": "capex", **policy} if capex else policy
    return spec.model_copy(update={"policy": spec.policy.model_copy(update=update)})


def _excess(spec: ScenarioSpec, servers: int) -> list[float]:
    """F(t + 1) - F(t) less the least, t = 0 .. servers - 1 (F(0) = 0)."""
    pool = spec.pools[0]
    value = [0.0] + [purchase_bound._bound_value(packed(spec, pool, n * 8)) for n in range(1, servers + 1)]
    steps = np.diff(value)
    return [float(s - steps.min()) for s in steps]


def _rows(spec: ScenarioSpec, most: int) -> tuple[np.ndarray, np.ndarray]:
    cost = np.zeros((len(spec.pools), len(spec.phases)))
    per_device, _, first = purchase_bound.least_increments(spec, [most], cost)
    return per_device, first


def test_every_count_from_the_base_up_is_a_row() -> None:
    """200 devices: 25 servers, counts 8 .. 24 (the 25th server's increment at t = 24 included), each its
    increment above the least, largest first."""
    spec = _spec()
    excess = _excess(spec, 25)
    assert excess[8] == pytest.approx(387_800.0) and excess[16] == pytest.approx(224_800.0)
    assert excess[24] == pytest.approx(74_800.0) and excess[0] == pytest.approx(25_000.0)
    per_device, first = _rows(spec, 200)
    assert per_device[0] * 8 == pytest.approx(min(np.diff([0.0] + [purchase_bound._bound_value(
        packed(spec, spec.pools[0], n * 8)) for n in range(1, 26)])), rel=1e-12)
    assert first[:, 0].tolist() == [0.0] * 17 and first[:, 3].tolist() == [25.0] * 17
    assert sorted(first[:, 1].astype(int).tolist()) == list(range(8, 25))
    for _, t, e, _ in first:
        assert e == pytest.approx(excess[int(t)], rel=1e-9, abs=1e-6)
    assert first[:, 2].tolist() == sorted(first[:, 2].tolist(), reverse=True)


def test_nine_servers_charge_the_ninth_alone() -> None:
    assert _rows(_spec(), 72)[1].tolist() == [[0.0, 8.0, pytest.approx(387_800.0), 9.0]]


def test_no_step_at_the_base_itself() -> None:
    assert _rows(_spec(), 64)[1].shape == (0, 4)  # 8 servers: the base is the most reached


def test_the_largest_steps_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """With 3 rows a pool, the 9th, 17th and one 74,800 step (the 21st or 25th server's)."""
    monkeypatch.setattr(purchase_bound, "STEPS_PER_POOL", 3)
    first = _rows(_spec(), 200)[1]
    assert first[:, 2].tolist() == pytest.approx([387_800.0, 224_800.0, 74_800.0])
    assert first[:2, 1].tolist() == [8.0, 16.0] and first[2, 1] in (20.0, 24.0)


def test_no_zero_steps_without_a_base() -> None:
    """Without the base (hB68's H100 of a bare pool) the counts 1 .. 7 add no increment above the least: no row for
    them (a free binary per count), t = 0's 25,000 and the 9th's on."""
    spec = _spec()
    bare = spec.model_copy(update={"pools": [spec.pools[0].model_copy(update={"installed": 0})]})
    first = _rows(bare, 200)[1]
    assert sorted(first[:, 1].astype(int).tolist()) == [0, *range(8, 25)] and np.all(first[:, 2] > 0)


def test_a_negative_increment_drops_every_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """A doctored F whose 3rd server lowers the capex (an increment < 0): the least is clamped at 0 and the other
    increments are no longer each >= it, so no step is charged."""
    value = purchase_bound._bound_value
    monkeypatch.setattr(purchase_bound, "_bound_value", lambda m: value(m) - (2.0e6 if m.devices == 24 else 0.0))
    per_device, first = _rows(_spec(), 200)
    assert per_device.tolist() == [0.0] and first.shape == (0, 4)


def test_the_big_m_takes_exactly_the_most_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The answer has at most 9 servers in service (its base of 8 and the 2028 one); with the most servers set to 9
    on every row the bound is the one the plan's own reach gives (a big-M one short would cut the 9th server)."""
    raw: list[float] = []
    solve, increments = purchase_bound.solve_phased_bound, purchase_bound.least_increments

    def record(*args, **kw):  # type: ignore[no-untyped-def]
        out = solve(*args, **kw)
        raw.append(out[2])
        return out

    def nine(*args):  # type: ignore[no-untyped-def]
        per_device, terms, first = increments(*args)
        return per_device, terms, np.column_stack([first[:, :3], np.full(len(first), 9.0)])

    monkeypatch.setattr(purchase_bound, "solve_phased_bound", record)
    own = plan_scenario(_spec(True), optimality_gap=True)
    monkeypatch.setattr(purchase_bound, "least_increments", nine)
    capped = plan_scenario(_spec(True), optimality_gap=True)
    assert len(raw) == 2 and raw[1] == pytest.approx(raw[0], rel=1e-9)
    assert capped.objective_lower_bound == pytest.approx(own.objective_lower_bound, rel=1e-9)


@pytest.mark.parametrize(("spares", "lines"), [
    ([0, 1, 2, 3], [(0.0, 1.0)]),  # collinear: one hull edge, one line
    ([0, 0, 0, 1, 2], [(-2.0, 1.0)]),  # the flat edge at 0 adds nothing (s >= 0 holds): only the rising one
    ([1, 1, 2, 4], [(1.0, 0.0), (0.0, 1.0), (-2.0, 2.0)]),  # a flat edge above 0 (a spare at 0 used) is kept
])
def test_spare_lines_are_the_hull_edges_above_zero(spares: list[int], lines: list[tuple[float, float]]) -> None:
    """bound_columns.spare_lines by hand: the lower convex hull's edges (Andrew's monotone chain), each (intercept,
    slope), those rising above 0."""
    assert spare_lines(np.array(spares)) == lines

