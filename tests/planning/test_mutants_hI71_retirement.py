"""Mutation wave on `planning.retirement`'s session-70 rules (hI, session 71): which phases may buy a pool's
device (`Lifecycle.buy_open`: not before its `from_year`, not from its `refresh_with` successor's phase), the phase
that buys ahead for a closed one (`ahead`: the latest open phase whose purchases still serve it), and the purchases
`in_service` counts. Hand counts on small lifecycles; the mutant ids are hI71's NOTE's."""

from __future__ import annotations

import numpy as np

from infraplan.planning.retirement import (
    Lifecycle,
    ahead,
    bought_ahead,
    in_service,
    lifecycles,
    out_of_service,
    servers_in_service,
)
from infraplan.planning.scenario_spec import ScenarioSpec

RANKING = {"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "90M", "latency_slo": "10ms"}


def _spec(pool: dict[str, object], years: tuple[int, ...] = (2025, 2027, 2029, 2031)) -> ScenarioSpec:
    return ScenarioSpec.model_validate({
        "name": "cycles", "phases": [{"name": str(y), "year": y} for y in years], "services": [RANKING],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "ohio", **pool}],
        "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}]})


def _aging(n: int, phases_served: int) -> np.ndarray:
    """alive[j, k]: bought in phase j, in service in phase k for `phases_served` phases from j."""
    return np.array([[j <= k < j + phases_served for k in range(n)] for j in range(n)])


def test_buy_open_from_the_from_year_until_the_successor_year() -> None:
    """hI71 RT1 / RT2 / RT10: a pool delivered from 2027 may buy from 2027 on (the year itself included); a pool
    bought in 2025 with a 4-year life, refreshed by B200, buys until its successor's first phase, 2029 (2029 itself
    closed); a purchase serves the phase it is bought in."""
    late = lifecycles(_spec({"lifetime_years": 4, "from_year": 2027}))
    assert late is not None and late[0].buy_open.tolist() == [False, True, True, True]
    refreshed = lifecycles(_spec({"lifetime_years": 4, "refresh_with": "b200"}))
    assert refreshed is not None and refreshed[0].buy_open.tolist() == [True, True, False, False]
    assert all(bool(refreshed[0].alive[k, k]) for k in range(4))
    assert refreshed[0].alive[0].tolist() == [True, True, False, False]  # 2025's devices retire by 2029


def test_ahead_is_the_latest_open_phase_still_serving() -> None:
    """hI71 RT3 / RT4 / RT5: a closed phase is served by the latest open phase whose purchases still serve it (they
    serve longest); an open phase buys for itself (None); a closed phase no open purchase reaches has none."""
    cycle = Lifecycle(_aging(4, 3), np.ones(4, dtype=bool), np.array([True, True, False, False]))
    assert [ahead(cycle, k) for k in range(4)] == [None, None, 1, 1]
    short = Lifecycle(_aging(4, 2), np.ones(4, dtype=bool), np.array([True, True, False, False]))
    assert [ahead(short, k) for k in range(4)] == [None, None, 1, None]  # 2025 and 2027's buys gone by phase 3


def test_in_service_buys_ahead_and_never_sells() -> None:
    """hI71 RT6 / RT7 / RT9: need 4, 2, 6, 6 over phases where phase 2 and 3 may not buy, each purchase serving 3
    phases: phase 0 buys 4; phase 1 needs 2 and has 4 (buys none for itself, never a negative purchase) but buys
    phase 2's lacking 2 ahead (phase 0's 4 + 2 = 6); phase 3 keeps phase 1's 2 only (phase 0's retired), so phase 1
    buys 4 more ahead: 6 bought there, 10 in service in phases 1 and 2, 6 in phase 3."""
    cycle = Lifecycle(_aging(4, 3), np.ones(4, dtype=bool), np.array([True, True, False, False]))
    installed, survivors = in_service(np.array([[4, 2, 6, 6]]), np.array([[0]]), [cycle])
    assert survivors.tolist() == [[0, 4, 10, 6]]
    assert installed.tolist() == [[4, 10, 10, 6]]
    bought = installed - survivors
    assert bought.tolist() == [[4, 6, 0, 0]] and (bought >= 0).all()


def test_a_retired_base_serves_no_more() -> None:
    """hI71 RT8: an installed base of 6 retired from phase 2 (`base_alive` false) leaves phase 2 to buy all 6."""
    cycle = Lifecycle(_aging(3, 3), np.array([True, True, False]), np.ones(3, dtype=bool))
    installed, survivors = in_service(np.array([[6, 6, 6]]), np.array([[6]]), [cycle])
    assert survivors.tolist() == [[6, 6, 0]] and installed.tolist() == [[6, 6, 6]]


def test_servers_in_service_rounds_a_part_server_up() -> None:
    """hI71 RT14: 9 devices on 8-device servers are two servers (16 devices), bought whole."""
    cycle = Lifecycle(_aging(2, 2), np.ones(2, dtype=bool), np.ones(2, dtype=bool))
    installed, _ = servers_in_service(np.array([[9, 9]]), np.array([[0]]), np.array([[8]]), [cycle])
    assert installed.tolist() == [[16, 16]]


def _refreshed_notes(need: list[int], years: tuple[int, ...]) -> list[str]:
    spec = _spec({"lifetime_years": 4, "refresh_with": "b200"}, years)
    cycles = lifecycles(spec)
    devices = np.array([need])
    installed, survivors = servers_in_service(devices, np.array([[0]]), np.array([[8]]), cycles)
    return bought_ahead(spec, devices, installed, survivors, cycles)


def test_the_bought_ahead_note_names_the_phases_it_serves() -> None:
    """hI71 RT12 / RT13: an 8-GPU H100 pool (4-year life, refreshed by B200 from 2029, its successor year) needs 8,
    8, 16, 0, 0 H100 over 2025, 2027, 2029, 2030, 2031: 2027 buys the 16 2029 needs ahead (2025's 8 retire by
    2029), and the note names 2029 only (2030 is served by the same purchase but needs none). Where 2029 needs only
    what 2027's own purchase leaves it (8, 16, 8, 0, 0: 2027 buys 8 for itself, which serve 2029), nothing is
    bought ahead and nothing is said."""
    years = (2025, 2027, 2029, 2030, 2031)
    assert _refreshed_notes([8, 8, 16, 0, 0], years) == [
        "2027: pool h100 buys 16 h100-sxm ahead for 2029, where it buys none (refresh_with b200: from 2029), and "
        "holds them in service until then (planning/retirement.py)"]
    assert _refreshed_notes([8, 16, 8, 0, 0], years) == []


def test_a_refreshed_pool_is_out_of_service_once_its_open_purchases_retire() -> None:
    """hI71 RT16: the H100 pool (4-year life from 2025, refreshed by B200 from 2029) serves 2029 with 2027's
    purchase (2 years old) and nothing in 2031 (2027's devices retire at 4 years; 2029 may not buy H100, so no
    purchase of a closed phase can serve 2031)."""
    spec = _spec({"lifetime_years": 4, "refresh_with": "b200"})
    assert [out_of_service(spec, 0, k) for k in range(3)] == [None, None, None]
    assert out_of_service(spec, 0, 3) == ("refreshed by b200 from 2029: it buys no more h100-sxm, and its earlier "
                                          "devices have retired (lifetime_years 4)")
