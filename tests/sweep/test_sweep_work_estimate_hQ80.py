"""A sweep's work is estimated before it runs (hQ80): points x a floor of one point's CPU time for its function;
past `limits.MAX_SWEEP_CPU_S` it is refused in one line naming the limit and `--max-cpu-hours`, before its folder is
made; past a CPU-hour the estimate is said first. 10**9 `collective` points ran (~3 CPU-days) without a word."""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import pytest
import yaml

from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.limits import MAX_SWEEP_CPU_S
from infraplan.serving.serve_inputs import DEFAULT_REQUESTS
from infraplan.sweep.runner import run_sweep
from infraplan.sweep.spec import load_spec
from infraplan.sweep.work_estimate import (
    POINT_CPU_S,
    SERVE_DEFAULT_REQUESTS,
    SWEEP_WARN_CPU_S,
    SweepWorkWarning,
    check_sweep_work,
    cpu_time_text,
    serve_point_cpu_s,
    sweep_work,
    warn_sweep_work,
)

BILLION = {"function": "collective", "fixed": {"op": "all-reduce", "system": "dgx-h100-superpod"},
           "axes": {"gpus": {"range": {"start": 8, "stop": 1007}}, "bytes": {"range": {"start": 1024, "stop": 2023}},
                    "flows_per_pair": {"range": {"start": 1, "stop": 1000}}}}


def _spec_file(tmp_path: Path, spec: dict[str, object]) -> Path:
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_a_billion_collective_points_are_refused_up_front(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _spec_file(tmp_path, BILLION)
    start = time.process_time()
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    cpu_s = time.process_time() - start
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1, err
    # 10**9 x 0.25 ms = 250,000 CPU-s = 2.9 CPU-days > 1 CPU-day; the override asks for 70 CPU-hours (ceil)
    assert "1,000,000,000 collective points" in err and "2.9 CPU-days" in err, err
    assert "MAX_SWEEP_CPU_S" in err and "--max-cpu-hours 70 " in err, err
    assert not (tmp_path / "out").exists()  # nothing made
    assert cpu_s < 10.0  # the estimate counts, it does not walk the points


def test_the_limit_is_a_day_of_one_core_and_the_flag_moves_it(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert MAX_SWEEP_CPU_S == 86_400.0
    small = {"function": "train", "fixed": {"model": "llama3-8b", "system": "dgx-h100-superpod", "seq_len": 2048,
                                             "global_batch": 64}, "axes": {"gpus": [8, 16]}}
    path = _spec_file(tmp_path, small)
    # 2 points x 0.15 ms = 0.3 ms of work: within the flag's least limit, 0.001 h = 3.6 s; not within 0.1 ms
    assert main(["sweep", str(path), "--out", str(tmp_path / "a"), "--max-cpu-hours", "0.001", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["estimated_cpu_s"] == pytest.approx(2 * POINT_CPU_S["train"])
    with pytest.raises(InputError, match=r"at least 0\.0003 CPU-s, above the limit of 0\.0001 CPU-s "
                                         r"\(--max-cpu-hours\)"):
        run_sweep(small, tmp_path / "b", workers=1, progress=False, max_cpu_s=1e-4)
    assert not (tmp_path / "b").exists()


def test_a_user_function_has_no_estimate_and_no_refusal(tmp_path: Path) -> None:
    spec = {"function": "sweep_helpers:slow_square", "fixed": {"delay_s": 0.0}, "axes": {"x": [1, 2]}}
    assert sweep_work(load_spec(spec)) is None
    run = run_sweep(spec, tmp_path / "out", workers=1, progress=False, max_cpu_s=1e-9)
    assert run.points_run == 2 and run.estimated_cpu_s is None


def test_serve_points_cost_by_their_requests() -> None:
    """The mean of a `requests` axis prices a point as that many requests fixed (each value in as many points)."""
    base = {"function": "serve", "fixed": {"model": "llama3-8b", "system": "h100-sxm", "gpus": 1, "workload": "chat"}}
    axis = load_spec(base | {"axes": {"requests": [1000, 3000], "rate": [1.0, 2.0, 3.0]}})
    fixed = load_spec(base | {"fixed": {**base["fixed"], "requests": 2000}, "axes": {"rate": [1.0, 2.0, 3.0]}})
    default = load_spec(base | {"axes": {"rate": [1.0, 2.0, 3.0]}})
    assert sweep_work(axis).point_cpu_s == sweep_work(fixed).point_cpu_s == sweep_work(default).point_cpu_s  # type: ignore[union-attr]
    assert SERVE_DEFAULT_REQUESTS == DEFAULT_REQUESTS  # the copy follows serve's default
    # a simulated request at the 1 M-request benchmark's rate (2.15 s CPU): 100x the requests, ~30x the floor
    assert serve_point_cpu_s(200_000) - serve_point_cpu_s(2_000) == pytest.approx(198_000 * 2.15e-6, rel=0.05)


def test_past_a_cpu_hour_the_estimate_is_said_first() -> None:
    points = int(SWEEP_WARN_CPU_S / POINT_CPU_S["train"]) + 1000  # a CPU-hour of train points, and a bit
    spec = load_spec({"function": "train", "fixed": {"model": "llama3-8b"},
                      "axes": [{"product": {"gpus": {"range": {"start": 1, "stop": points // 100}}}},
                               {"product": {"seq_len": {"range": {"start": 1, "stop": 100}}}}]})
    with pytest.warns(SweepWorkWarning, match=r"24,001,000 train points x at least 0\.15 ms CPU each = at least "
                                              r"1 CPU-hour: ~1,800 s on 2 workers at best"):
        warn_sweep_work(spec, check_sweep_work(spec), workers=2)
    work = sweep_work(spec)
    assert work is not None and SWEEP_WARN_CPU_S < work.cpu_s < MAX_SWEEP_CPU_S
    small = load_spec({"function": "train", "axes": {"gpus": [8]}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_sweep_work(small, check_sweep_work(small), workers=2)  # a small one says nothing


# under 10 s two significant figures (hR, session 51: a refusal read "at least 0 CPU-s, above the limit of 0 CPU-s")
@pytest.mark.parametrize(("seconds", "text"), [(3e-4, "0.0003 CPU-s"), (4.25, "4.2 CPU-s"), (42.4, "42 CPU-s"),
                                               (3600.0, "1 CPU-hour"), (11_160.0, "3.1 CPU-hours"),
                                               (86_400.0, "1 CPU-day"), (250_000.0, "2.9 CPU-days")])
def test_cpu_time_text(seconds: float, text: str) -> None:
    assert cpu_time_text(seconds) == text


def test_the_warning_names_the_backends_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Said once the backend is up (a Ray cluster's CPUs are known only then), before the first point runs."""
    from infraplan.sweep import work_estimate

    monkeypatch.setattr(work_estimate, "SWEEP_WARN_CPU_S", 0.0)
    spec = {"function": "train", "fixed": {"model": "llama3-8b", "system": "dgx-h100-superpod", "seq_len": 2048,
                                           "global_batch": 64}, "axes": {"gpus": [8, 16]}}
    with pytest.warns(SweepWorkWarning, match=r"2 train points x at least 0\.15 ms CPU each = at least 0\.0003 CPU-s: "
                                              r"~0\.0003 s on 1 workers"):
        run = run_sweep(spec, tmp_path / "out", workers=1, progress=False)
    assert run.points_run == 2 and run.workers == 1


def test_the_limit_is_the_estimate_itself_and_the_flag_is_hours(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """At the boundary (hR, session 51: mutants refusing only past twice the limit, or reading the flag as minutes,
    passed the tests above, whose sweeps sit 10x or more from their limits): 2 train points, 0.3 ms; a limit of
    exactly 0.3 ms runs, 1 % less refuses; `--max-cpu-hours 1e-7` is 0.36 ms (runs), 8e-8 is 0.288 ms (refused)."""
    spec = {"function": "train", "fixed": {"model": "llama3-8b", "system": "dgx-h100-superpod", "seq_len": 2048,
                                           "global_batch": 64}, "axes": {"gpus": [8, 16]}}
    work = check_sweep_work(load_spec(spec), max_cpu_s=2 * POINT_CPU_S["train"])
    assert work is not None and work.cpu_s == 2 * POINT_CPU_S["train"]
    with pytest.raises(InputError, match=r"above the limit of 0\.0003 CPU-s \(--max-cpu-hours\)"):
        check_sweep_work(load_spec(spec), max_cpu_s=0.99 * work.cpu_s)
    path = _spec_file(tmp_path, spec)
    assert main(["sweep", str(path), "--out", str(tmp_path / "a"), "--max-cpu-hours", "1e-7", "--json"]) == 0
    capsys.readouterr()
    assert main(["sweep", str(path), "--out", str(tmp_path / "b"), "--max-cpu-hours", "8e-8", "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "above the limit of 0.00029 CPU-s (--max-cpu-hours)" in err, err
    assert not (tmp_path / "b").exists()
