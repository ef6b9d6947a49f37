"""`serve` / `serve-plan` give the draw per accelerator at the steady served rate beside the whole run's (hO57).

`power_w_per_gpu` is the whole run's mean (energy_j over accelerators x duration_s, drain included: hG57's 632 H100 at
2,000 chat requests/s idle through 62 s of drain in 124 s and read 997 W); `steady_power_w_per_gpu` is (idle + host)
W + the run's dynamic joules per token x the steady served rate / accelerators, i.e. joules_per_token x that rate /
accelerators (the same sums as hJ57's per-token figures). The text's power row gives both. A steady draw above
TDP + host share (impossible under the power model) is said in a warning: the whole run's dynamic joules per token carry
the ramp and drain's small batches (1.13 J at 124,265 requests, 0.86 J at 16x). Since hA58 the dynamic part is the
later half of the arrival window's (`serving.window_marks`) and the warning is for runs without its marks. Each test
fails at 7d41c70 (no `steady_power_w_per_gpu`, the row gave one figure, no note)."""

from __future__ import annotations

import pytest

from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.serving.capacity import search_capacity
from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.serving_metrics import power_terms, steady_power_note

MODEL, SYSTEM = "llama3-8b", "dgx-h100-superpod"


def _ceiling_w() -> float:
    cluster = Cluster.resolve(SYSTEM)
    return cluster.accelerator.tdp_w + power_terms(cluster.accelerator, cluster.system)[1]


def test_steady_power_is_joules_per_token_at_the_steady_rate() -> None:
    r = estimate_serving(MODEL, SYSTEM, 1, dtype="fp8", workload="chat", rate=5, requests=1000)
    assert r.steady_output_tokens_per_s is not None and r.steady_power_w_per_gpu is not None
    assert r.power_w_per_gpu is not None and r.joules_per_token is not None and r.energy_j is not None
    assert r.steady_power_w_per_gpu == pytest.approx(r.joules_per_token * r.steady_output_tokens_per_s, rel=1e-9)
    assert r.energy_j == pytest.approx(r.power_w_per_gpu * r.duration_s, rel=1e-9)  # power_w_per_gpu: whole run
    assert r.power_w_per_gpu < r.steady_power_w_per_gpu <= _ceiling_w()  # the drain idles the accelerator
    assert not [n for n in r.warnings if "steady_power_w_per_gpu" in n]  # under the ceiling: no note


def test_offline_steady_power_is_the_whole_runs() -> None:
    r = estimate_serving(MODEL, SYSTEM, 1, dtype="fp8", offline=True, input_len=500, output_len=200, requests=300)
    assert r.steady_output_tokens_per_s is None
    assert r.steady_power_w_per_gpu == pytest.approx(r.power_w_per_gpu, rel=1e-9)


def test_a_steady_draw_above_tdp_and_host_is_said() -> None:
    """hG57's example read 1,341 W (the whole run's 1.13 J/token dynamic at 385.9 k tokens/s over 632 H100), above
    700 W TDP + 575 W host share, and this note fired on it. Since hA58 the steady draw is the later half of the
    arrival window's (1,157 W, tests/serving/test_window_power_hA58.py) and cannot pass the ceiling; the note stays
    for a run without window marks (a closed loop), said on a result that reads above it."""
    cluster = Cluster.resolve(SYSTEM)
    said = steady_power_note({"steady_power_w_per_gpu": 1341.3, "steady_output_tokens_per_s": 385898.0},
                             cluster.accelerator, cluster.system)
    assert len(said) == 1 and "1,275 W" in said[0] and "more requests" in said[0] and "closed loop" in said[0]
    assert not steady_power_note({"steady_power_w_per_gpu": 1156.7, "steady_output_tokens_per_s": 385898.0},
                                 cluster.accelerator, cluster.system)


def _power_row(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    assert main(args) == 0
    return next(line for line in capsys.readouterr().out.splitlines() if "power per accelerator" in line)


def test_the_power_row_gives_both(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    row = _power_row(capsys, ["serve", MODEL, "--system", SYSTEM, "--gpus", "1", "--dtype", "fp8", "--workload", "chat",
                               "--rate", "5", "--requests", "400"])
    assert "at the steady served rate" in row and "over the whole run, drain included" in row
    row = _power_row(capsys, ["serve", MODEL, "--system", SYSTEM, "--gpus", "1", "--dtype", "fp8", "--offline",
                              "--input-len", "500", "--output-len", "200", "--requests", "100"])
    assert "steady" not in row  # offline: one figure, the whole run's


def test_serve_plan_gives_the_steady_draw_as_serve_does() -> None:
    plan = search_capacity(MODEL, SYSTEM, 20.0, workload="chat")
    assert plan.serve is not None and plan.serve.steady_output_tokens_per_s is not None and plan.gpus
    assert plan.serve.steady_power_w_per_gpu == pytest.approx(
        plan.serve.joules_per_token * plan.serve.steady_output_tokens_per_s / plan.gpus, rel=1e-9)
    assert plan.serve.steady_power_w_per_gpu > plan.serve.power_w_per_gpu
