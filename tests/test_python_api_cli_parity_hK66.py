"""Each public function of `import infraplan`, asked what its CLI command is asked, gives the same answer (hK66).

For one typical case per name, the function's result serialised (`model_dump_json`, the serialisation `--json`
prints: non-finite numbers as null) equals `infraplan <command> ... --json` parsed, run through the CLI's own entry
(`cli.main.main`, with its recorded warnings), the measured `wall_time_s` and `configs_per_s` left out (the run's,
not the model's). `load_model` and `Cluster` have no command printing them (`catalog` prints a preset's raw data)
and `run_validation` is `validate`'s (~45 s; `validate --json` is compared with the base by cmp): not compared here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import infraplan
from infraplan.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
MINIMAL = str(ROOT / "examples" / "plan-minimal.yaml")
FLEET = str(ROOT / "examples" / "fleet-mix.yaml")

CASES: dict[str, tuple[Callable[[], Any], list[str]]] = {
    "estimate_training": (
        lambda: infraplan.estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=8, seq_len=2048, global_batch=512),
        ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8", "--seq-len", "2048",
         "--global-batch", "512"]),
    "search_plans": (
        # the CLI names the best plan in the other dtype for one GPU count, as the API's default does (hU67)
        lambda: infraplan.search_plans("llama3-8b", "dgx-h100-superpod", 8, 4096, 64),
        ["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096",
         "--global-batch", "64"]),
    "simulate_serving": (
        lambda: infraplan.simulate_serving("llama3-8b", "dgx-h100-superpod", 1, rate=2.0, requests=50,
                                           input_len=512, output_len=128),
        ["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--rate", "2", "--requests", "50",
         "--input-len", "512", "--output-len", "128"]),
    "plan_serving": (
        lambda: infraplan.plan_serving("llama3-8b", "dgx-h100-superpod", 1.0, workload="chat", requests=200),
        ["serve-plan", "llama3-8b", "--system", "dgx-h100-superpod", "--rate", "1", "--workload", "chat",
         "--requests", "200"]),
    "estimate_recsys": (
        lambda: infraplan.estimate_recsys("dlrm-high", "mtia-v2", latency_slo_s=0.02),
        ["recsys", "dlrm-high", "--accelerator", "mtia-v2", "--latency-slo", "20ms"]),
    "estimate_video": (
        lambda: infraplan.estimate_video("msvp", "1080p30", daily_hours=1000.0),
        ["video", "--device", "msvp", "--input", "1080p30", "--daily-hours", "1000"]),
    "plan_facility": (
        lambda: infraplan.plan_facility("dgx-h100-superpod", location="ohio"),
        ["facility", "--system", "dgx-h100-superpod", "--location", "ohio"]),
    "plan_campus": (
        lambda: infraplan.plan_campus(100e6, "h100-sxm"),
        ["campus", "--power", "100MW", "--accelerator", "h100-sxm"]),
    "plan_fleet": (lambda: infraplan.plan_fleet(FLEET), ["fleet-mix", FLEET]),
    "plan_scenario": (lambda: infraplan.plan_scenario(MINIMAL), ["plan", MINIMAL]),
    "compare_scenarios": (lambda: infraplan.compare_scenarios([MINIMAL, MINIMAL]), ["compare", MINIMAL, MINIMAL]),
}
SLOW = {"plan_fleet"}  # ~18 s for the two on the 2-core VM


TIMED = {"wall_time_s", "configs_per_s"}
"""Fields that measure the run, not the model."""


def _without_wall_time(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_wall_time(v) for k, v in value.items() if k not in TIMED}
    if isinstance(value, list):
        return [_without_wall_time(v) for v in value]
    return value


def _cli_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    capsys.readouterr()
    code = main([*argv, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in CASES])
def test_the_function_answers_as_its_command(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    call, argv = CASES[name]
    api = json.loads(call().model_dump_json())
    cli = _cli_json(argv, capsys)
    assert _without_wall_time(api) == _without_wall_time(cli)


def test_every_command_backed_public_function_is_compared() -> None:
    """A public name added to `infraplan.__all__` is compared here or said above why not."""
    left_out = {"Cluster", "load_model", "run_validation", "run_sweep", "__version__"}
    assert set(infraplan.__all__) - left_out - set(infraplan.RESULT_TYPES) == set(CASES)  # (the types: hU67)


def test_run_sweep_answers_as_sweep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`run_sweep` and `infraplan sweep --json`: the same summary of a two-point facility sweep (the folder each
    wrote and the run's own timing left out)."""
    spec = tmp_path / "two.yaml"
    spec.write_text("function: facility\nfixed:\n  location: ohio\naxes:\n  - product:\n"
                    "      system: [dgx-h100-superpod, dgx-b200]\n")
    api = json.loads(infraplan.run_sweep(str(spec), tmp_path / "api", workers=1, progress=False).model_dump_json())
    cli = _cli_json(["sweep", str(spec), "--out", str(tmp_path / "cli"), "--workers", "1"], capsys)
    drop = {"directory", "wall_time_s", "points_per_s"}
    assert {k: v for k, v in api.items() if k not in drop} == {k: v for k, v in cli.items() if k not in drop}
    assert (api["points_run"], api["points_failed"]) == (2, 0)
