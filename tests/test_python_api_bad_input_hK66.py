"""Bad input through `import infraplan` is one `InputError` line, the CLI's own where the CLI has the option (hK66).

The CLI turns `infraplan.errors.InputError` into "infraplan: error: <line>" and exit code 2. A Python caller gets the
same exception with the same line: the numbers' bounds are one rule (`infraplan.bounds`, which the CLI's option
parsers use too), and an argument of a kind the API does not take is one line naming what it takes
(`errors.wrong_kind`). Before hK66 these leaked: `search_plans(top=0)` ran, `seq_len=nan` was numpy's ValueError,
`plan_serving(rate=inf)` an OverflowError, `simulate_serving(rate=inf)` and `ttft_slo=nan` ran, `estimate_video`
took nan and inf, `plan_facility(rack_power_w=nan)` was int()'s ValueError, `load_model(None)` / `Cluster.resolve(5)`
TypeErrors, `estimate_training(None, ...)` an AttributeError, `plan_campus("100MW", ...)` a TypeError,
`plan_fleet({})` / `plan_scenario({})` AttributeErrors, and `compare_scenarios("a.yaml")` read the text letter by
letter ("file / is a directory").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import infraplan
from infraplan.cli.main import main
from infraplan.errors import InputError

NAN, INF = float("nan"), float("inf")
H100 = "dgx-h100-superpod"
ROOT = Path(__file__).resolve().parents[1]
LEN = {"input_len": 128, "output_len": 64}

SAME_AS_CLI: dict[str, tuple[Callable[[], Any], list[str]]] = {
    "search top 0": (lambda: infraplan.search_plans("llama3-8b", H100, 8, 2048, 512, top=0),
                     ["search", "llama3-8b", "--system", H100, "--gpus", "8", "--seq-len", "2048",
                      "--global-batch", "512", "--top", "0"]),
    "search global batch -1": (lambda: infraplan.search_plans("llama3-8b", H100, 8, 2048, -1),
                               ["search", "llama3-8b", "--system", H100, "--gpus", "8", "--seq-len", "2048",
                                "--global-batch", "-1"]),
    "search seq_len nan": (lambda: infraplan.search_plans("llama3-8b", H100, 8, NAN, 512),  # type: ignore[arg-type]
                           ["search", "llama3-8b", "--system", H100, "--gpus", "8", "--seq-len", "nan",
                            "--global-batch", "512"]),
    "serve rate inf": (lambda: infraplan.simulate_serving("llama3-8b", H100, 1, rate=INF, requests=20, **LEN),
                       ["serve", "llama3-8b", "--system", H100, "--gpus", "1", "--rate", "inf", "--requests", "20",
                        "--input-len", "128", "--output-len", "64"]),
    "serve rate 0": (lambda: infraplan.simulate_serving("llama3-8b", H100, 1, rate=0, requests=20, **LEN),
                     ["serve", "llama3-8b", "--system", H100, "--gpus", "1", "--rate", "0", "--requests", "20",
                      "--input-len", "128", "--output-len", "64"]),
    "serve ttft nan": (lambda: infraplan.simulate_serving("llama3-8b", H100, 1, rate=1.0, requests=20, ttft_slo=NAN,
                                                          **LEN),
                       ["serve", "llama3-8b", "--system", H100, "--gpus", "1", "--rate", "1", "--requests", "20",
                        "--input-len", "128", "--output-len", "64", "--ttft-slo", "nan"]),
    "serve-plan rate inf": (lambda: infraplan.plan_serving("llama3-8b", H100, INF, workload="chat"),
                            ["serve-plan", "llama3-8b", "--system", H100, "--rate", "inf", "--workload", "chat"]),
    "serve-plan max gpus 0": (lambda: infraplan.plan_serving("llama3-8b", H100, 1.0, workload="chat", max_gpus=0),
                              ["serve-plan", "llama3-8b", "--system", H100, "--rate", "1", "--workload", "chat",
                               "--max-gpus", "0"]),
    "serve-plan tpot inf": (lambda: infraplan.plan_serving("llama3-8b", H100, 1.0, workload="chat", tpot_slo=INF),
                            ["serve-plan", "llama3-8b", "--system", H100, "--rate", "1", "--workload", "chat",
                             "--tpot-slo", "inf"]),
    "video daily nan": (lambda: infraplan.estimate_video("msvp", daily_hours=NAN),
                        ["video", "--device", "msvp", "--daily-hours", "nan"]),
    "video peak inf": (lambda: infraplan.estimate_video("msvp", peak_to_average=INF),
                       ["video", "--device", "msvp", "--peak-to-average", "inf"]),
    "facility rack power nan": (lambda: infraplan.plan_facility(H100, rack_power_w=NAN),
                                ["facility", "--system", H100, "--rack-power", "nan"]),
    # hR66: still numpy's or int()'s errors after hK66 (seq_len=inf an OverflowError, input_len=nan a ValueError)
    "train seq_len inf": (lambda: infraplan.estimate_training("llama3-8b", H100, 8, seq_len=INF),  # type: ignore[arg-type]
                          ["train", "llama3-8b", "--system", H100, "--gpus", "8", "--seq-len", "inf",
                           "--global-batch", "512"]),
    "train global batch nan": (lambda: infraplan.estimate_training("llama3-8b", H100, 8, global_batch=NAN),  # type: ignore[arg-type]
                               ["train", "llama3-8b", "--system", H100, "--gpus", "8", "--seq-len", "2048",
                                "--global-batch", "nan"]),
    "train micro batch 0": (lambda: infraplan.estimate_training("llama3-8b", H100, 8, micro_batch=0),
                            ["train", "llama3-8b", "--system", H100, "--gpus", "8", "--seq-len", "2048",
                             "--global-batch", "512", "--micro-batch", "0"]),
    "serve input_len nan": (lambda: infraplan.simulate_serving("llama3-8b", H100, 1, rate=1.0, requests=20,
                                                               input_len=NAN, output_len=64),  # type: ignore[arg-type]
                            ["serve", "llama3-8b", "--system", H100, "--gpus", "1", "--rate", "1", "--requests", "20",
                             "--input-len", "nan", "--output-len", "64"]),
    "serve-plan output_len 0": (lambda: infraplan.plan_serving("llama3-8b", H100, 1.0, input_len=128, output_len=0,
                                                               ttft_slo=2.0, tpot_slo=0.05),
                                ["serve-plan", "llama3-8b", "--system", H100, "--rate", "1", "--input-len", "128",
                                 "--output-len", "0", "--ttft-slo", "2", "--tpot-slo", "0.05"]),
    # already one line before hK66, kept: an unknown preset, no GPUs, a plan that does not divide
    "train unknown model": (lambda: infraplan.estimate_training("llama-nope", H100, 8),
                            ["train", "llama-nope", "--system", H100, "--gpus", "8", "--seq-len", "2048",
                             "--global-batch", "512"]),
    "train tp does not divide": (lambda: infraplan.estimate_training("llama3-8b", H100, 8, tp=3),
                                 ["train", "llama3-8b", "--system", H100, "--gpus", "8", "--tp", "3", "--seq-len",
                                  "2048", "--global-batch", "512"]),
    "recsys unknown accelerator": (lambda: infraplan.estimate_recsys("dlrm-high", "nope"),
                                   ["recsys", "dlrm-high", "--accelerator", "nope"]),
    "campus nan power": (lambda: infraplan.plan_campus(NAN, "h100-sxm"),
                         ["campus", "--power", "nan", "--accelerator", "h100-sxm"]),
}


def _cli_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    return err.removeprefix("infraplan: error: ")


@pytest.mark.parametrize("case", SAME_AS_CLI)
def test_the_api_refuses_with_the_clis_line(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    call, argv = SAME_AS_CLI[case]
    with pytest.raises(InputError) as refused:
        call()
    line = str(refused.value)
    assert "\n" not in line
    if case != "campus nan power":  # the CLI reads "nan" as text ('nan' W); the API was given a float
        assert line == _cli_error(argv, capsys)


WRONG_KIND: dict[str, tuple[Callable[[], Any], str]] = {
    "train model None": (lambda: infraplan.estimate_training(None, H100, 8),  # type: ignore[arg-type]
                         "model takes a preset name or a config.json path (text), got None (NoneType)"),
    "search model int": (lambda: infraplan.search_plans(5, H100, 8, 2048, 512),  # type: ignore[arg-type]
                         "model takes a preset name or a config.json path (text), got 5 (int)"),
    "serve model shape": (lambda: infraplan.simulate_serving(infraplan.load_model("llama3-8b"), H100, 1,  # type: ignore[arg-type]
                                                             rate=1.0, requests=20, **LEN),
                          "model takes a preset name or a config.json path (text), got "),
    "load_model None": (lambda: infraplan.load_model(None),  # type: ignore[arg-type]
                        "model takes a preset name or a config.json path (text), got None (NoneType)"),
    "load_model dict": (lambda: infraplan.load_model({}),  # type: ignore[arg-type]
                        "model takes a preset name or a config.json path (text), got {} (dict)"),
    "Cluster int": (lambda: infraplan.Cluster.resolve(5),  # type: ignore[arg-type]
                    "system takes a system or accelerator preset name or file path (text), a System or a Cluster, "
                    "got 5 (int)"),
    "campus power text": (lambda: infraplan.plan_campus("100MW", "h100-sxm"),  # type: ignore[arg-type]
                          "power_w takes a number of watts (the CLI reads '100MW' with infraplan.units.read_watts), "
                          "got '100MW' (str)"),
    "fleet dict": (lambda: infraplan.plan_fleet({}),  # type: ignore[arg-type]
                   "spec takes a fleet-mix YAML path (text) or a FleetSpec, got {} (dict)"),
    "scenario dict": (lambda: infraplan.plan_scenario({}),  # type: ignore[arg-type]
                      "spec takes a scenario YAML path (text) or a ScenarioSpec, got {} (dict)"),
    "compare one path": (lambda: infraplan.compare_scenarios(str(ROOT / "examples" / "plan-minimal.yaml")),  # type: ignore[arg-type]
                         "paths takes a list of scenario YAML paths or ScenarioSpecs, got "),
    "train gpus text": (lambda: infraplan.estimate_training("llama3-8b", H100, "8"),  # type: ignore[arg-type]
                        "--gpus must be a whole number of accelerators, got '8'"),
    "search top 2.5": (lambda: infraplan.search_plans("llama3-8b", H100, 8, 2048, 512, top=2.5),  # type: ignore[arg-type]
                       "Invalid value for '--top': '2.5' is not a whole number"),
    "video host power nan": (lambda: infraplan.estimate_video("msvp", host_power_w=NAN),
                             "host_power_w must be 0 to 1e+06 W per device, got nan"),
    "compare one scenario": (lambda: infraplan.compare_scenarios([str(ROOT / "examples" / "plan-minimal.yaml")]),
                             "compare needs at least two scenarios"),
}


@pytest.mark.parametrize("case", WRONG_KIND)
def test_a_wrong_kind_is_one_line_naming_what_is_taken(case: str) -> None:
    call, start = WRONG_KIND[case]
    with pytest.raises(InputError) as refused:
        call()
    assert str(refused.value).startswith(start) and "\n" not in str(refused.value)


def test_a_whole_float_is_a_whole_number() -> None:
    """8.0 GPUs / a top of 3.0 are taken as the CLI's "3" is (the sweep's log axes give floats)."""
    found = infraplan.search_plans("llama3-8b", H100, 8, 2048.0, 512, top=3.0)  # type: ignore[arg-type]
    assert len(found.top) == 3


def test_an_empty_scenario_is_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(InputError, match=r"^file empty\.yaml is empty$"):
        infraplan.plan_scenario(str(empty))
    with pytest.raises(InputError, match=r"empty\.yaml: file empty\.yaml is empty$"):  # (which of the two)
        infraplan.compare_scenarios([str(empty), str(empty)])
