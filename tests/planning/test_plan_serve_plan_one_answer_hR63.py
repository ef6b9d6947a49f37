"""`plan` reports the devices a service needs on a pool, serve-plan's answer at its share, not what the MILP left
it inside servers bought anyway (hR63; found by hL63's walk, validation/notes/product_review_tried.md).

70B chat at 20 requests/s (2 s / 0.1 s) beside an SD 1.5 image service on one H100 pool: serve-plan answers 8 H100
(3 prefill + 1 decode TP2 replicas, one whole unit); its answer at 10 requests/s is 3 TP2 replicas (6 H100), so 12
devices in units of 2 cover 20 too. With the image service's 1 device both fill 2 servers (16 H100): the TCO ties,
the MILP's 1e-9 charge per device is below HiGHS's 1e-4 gap, and `plan` said chat 12. Now each (service, pool,
phase)'s units are re-chosen at the fewest devices covering its share (`scenario_caps.fewest_devices`), the servers
as bought; the devices no one uses are the pool row's `idle_devices`.
Since hQ63 (a met run confirmed on two more seeds) the 8-H100 answer no longer holds and both answer 10 (5 TP2
replicas); serve-plan is asked with `--max-gpus 16`, since plan's pool is not capped at the preset's one server.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from infraplan.cli import main
from infraplan.planning.phased_mix import MixOption
from infraplan.planning.scenario_caps import trim_idle

SCENARIO = """name: plan-llm-hL63
phases: [{name: "2026", year: 2026}]
services:
  - {name: chat, kind: llm, model: llama3-70b, rate: 20, workload: chat, ttft_slo: 2s, tpot_slo: 0.1s}
  - {name: img, kind: image, model: sd-v1.5-512, rate: 5, latency_slo: 5s}
pools:
  - {name: h100, device: h100-sxm, site: ohio}
sites:
  - {name: ohio, power: 10MW, location: ohio}
"""
SERVE_PLAN = ["serve-plan", "llama3-70b", "--system", "h100-sxm", "--rate", "20", "--workload", "chat",
              "--ttft-slo", "2s", "--tpot-slo", "0.1s", "--max-gpus", "16", "--json"]


def _json(capsys: pytest.CaptureFixture[str], args: list[str]) -> dict:
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


def test_plan_gives_chat_serve_plans_devices_and_says_the_rest_is_idle(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    plan = _json(capsys, ["plan", str(path), "--json"])
    answer = _json(capsys, SERVE_PLAN)
    rows = {r["service"]: r for r in plan["services"]}
    # at b9c5d760: serve-plan 8 (3 prefill + 1 decode TP2), plan 12 (6 units of the 10-requests/s answer);
    # after hQ63 both 10
    assert rows["chat"]["devices"] == answer["gpus"]
    assert rows["chat"]["served"] == pytest.approx(20.0)
    (pool,) = plan["pools"]
    assert pool["spare_devices"] == 0 and pool["devices"] % 8 == 0  # whole 8-GPU servers
    assert pool["idle_devices"] == pool["devices"] - answer["gpus"] - rows["img"]["devices"]  # 16 - 8 - 1 = 7


# the hL63 case's options on one pool, by hand: chat's whole-rate answer (one unit of 8 devices for 20/s), its
# answer at 10/s (units of 2 devices, 10/3 requests/s each); the image service's device (17.6 images/s)
CHAT_WHOLE, CHAT_HALF, IMAGE = (MixOption(0, 0, 0, 20.0, 8, True), MixOption(0, 0, 0, 20.0 / 6, 2, False),
                                MixOption(1, 0, 0, 17.6, 1, False))
NEED = np.array([[20.0], [5.0]])


def fewest_devices(options: list[MixOption], x: np.ndarray, need: np.ndarray) -> np.ndarray:
    """hR63's pass, now the first stage of `trim_idle`'s rule at the devices the answer holds (hB64:
    planning/fixed_servers.py)."""
    return trim_idle(options, x, need)


def test_the_fewest_devices_covering_the_share_replace_the_milps_tie() -> None:
    options = [CHAT_WHOLE, CHAT_HALF, IMAGE]
    assert fewest_devices(options, np.array([0, 6, 1]), NEED).tolist() == [1, 0, 1]  # 12 -> 8 devices
    assert trim_idle(options, np.array([0, 6, 1]), NEED).tolist() == [1, 0, 1]  # the pass plan's solves run
    assert fewest_devices(options, np.array([1, 0, 1]), NEED).tolist() == [1, 0, 1]  # already the fewest


def test_a_share_of_the_demand_is_covered_on_its_own_pool() -> None:
    """A service split over two pools keeps each pool's share: pool 0 serves 10 of 20 with 3 units of 2 devices
    (10/3 each: 6 devices, fewer than its whole 8-device unit); pool 1 serves the other 10 with 4 units of 4 (2.5
    each, 16 devices) where its whole unit of 12 devices covers 10: the whole unit."""
    options = [MixOption(0, 0, 0, 20.0, 8, True), MixOption(0, 0, 0, 10.0 / 3, 2, False),
               MixOption(0, 1, 0, 10.0, 12, True), MixOption(0, 1, 0, 2.5, 4, False)]
    assert fewest_devices(options, np.array([0, 3, 0, 4]), np.array([[20.0]])).tolist() == [0, 3, 1, 0]


def test_equal_devices_keep_the_coarser_option() -> None:
    """8 devices either way (one whole-rate unit, or 4 units of 2 at 5 each): the whole-rate answer, listed first,
    whichever the MILP handed back."""
    tie = [MixOption(0, 0, 0, 20.0, 8, True), MixOption(0, 0, 0, 5.0, 2, False)]
    assert fewest_devices(tie, np.array([0, 4]), np.array([[20.0]])).tolist() == [1, 0]
    assert fewest_devices(tie, np.array([1, 0]), np.array([[20.0]])).tolist() == [1, 0]
