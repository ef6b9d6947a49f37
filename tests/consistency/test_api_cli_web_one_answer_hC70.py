"""The same question asked three ways (hC70, session 49): the Python API, `infraplan ... --json` and the web API
give one JSON answer, field names and values identical, for requests beyond the web tests' one case a command
(tests/web/test_web_api.py): a DeepSeek-V3 MoE step with EP on NVL72 racks in fp8, an MI300X search over
precisions, a flow-level all-to-all, a GB200 facility in Ohio, a GB200 reliability report with a spare tray.

Wall-clock fields (a search's `seconds`, `configs_per_s`) are left out. The search API is called with its
defaults: it compares dtypes (`compare_dtypes=True`) as `search` with one GPU count does (cli/commands/search.py;
the API's default since hU67, an opt-in before, whose `dtype_choice` left the best other precision out).

The sweep's functions of plain values (`sweep.callables`: `facility`, `campus`, `collective`, which read human
units as the CLI reads them) give the CLI's answer for the same words: an electricity price per kWh with a PUE
override, a phased campus at a stated server price, a flow-level all-to-all.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402
from tests.web.conftest import client as web_client  # noqa: E402
from tests.web.conftest import web_answer  # noqa: E402

from infraplan.cli.main import main as cli_main  # noqa: E402
from infraplan.cluster import Cluster  # noqa: E402
from infraplan.facility.facility import size_facility  # noqa: E402
from infraplan.facility.reliability import reliability_report  # noqa: E402
from infraplan.network.collective_schedules import estimate_collective  # noqa: E402
from infraplan.sweep import callables as sweep_functions  # noqa: E402
from infraplan.training.estimate import estimate_training  # noqa: E402
from infraplan.training.optimizer_models import checkpoint_bytes_per_param  # noqa: E402
from infraplan.training.search import search_plans  # noqa: E402

client = web_client  # the web tests' in-process client fixture (tests/web/conftest.py), module-scoped

WALL_CLOCK = ("wall_time_s", "configs_per_s")

CASES: dict[str, tuple[str, dict[str, Any], Callable[[], Any]]] = {
    "train-moe-nvl72": ("train", {"model": "deepseek-v3", "system": "gb200-nvl72-superpod", "gpus": 512, "tp": 1,
                                  "pp": 8, "ep": 64, "order": "tp-cp-dp-pp", "seq_len": 4096, "global_batch": 4096,
                                  "dtype": "fp8", "recompute": "selective"},
                        lambda: estimate_training("deepseek-v3", "gb200-nvl72-superpod", 512, tp=1, pp=8, ep=64,
                                                  order="tp-cp-dp-pp", seq_len=4096, global_batch=4096, dtype="fp8",
                                                  recompute="selective")),
    "search-mi300x": ("search", {"model": "mixtral-8x7b", "system": "mi300x-cluster", "gpus": [64], "seq_len": 4096,
                                 "global_batch": 256, "top": 3},
                      lambda: search_plans("mixtral-8x7b", "mi300x-cluster", 64, 4096, 256, top=3)),
    "collective-flow": ("collective", {"op": "all-to-all", "system": "dgx-h100-superpod", "gpus": 64,
                                       "size": "64MiB", "sim": "flow"},
                        lambda: estimate_collective("all-to-all", Cluster.resolve("dgx-h100-superpod").for_gpus(64), 64,
                                                    64 * 2.0**20, sim="flow")),
    "facility-gb200": ("facility", {"accelerator": "gb200", "count": 1152, "location": "ohio"},
                       lambda: size_facility(accelerator="gb200", count=1152, location="ohio")),
    "reliability-gb200": ("reliability", {"system": "gb200", "gpus": 16384, "days": 54,
                                          "spare_trays_per_domain": 1},
                          lambda: reliability_report("gb200", 16384, 54.0, spare_trays_per_domain=1)),
    "reliability-muon": ("reliability", {"system": "b200", "gpus": 4096, "model": "kimi-k2", "optimizer": "muon"},
                         lambda: reliability_report(
                             "b200", 4096, model="kimi-k2", optimizer="muon",
                             checkpoint_bytes_per_param=checkpoint_bytes_per_param("muon", "kimi-k2"))),
}


def _without_wall_clock(answer: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in answer.items() if key not in WALL_CLOCK}


@pytest.mark.parametrize("case", sorted(CASES))
def test_python_cli_and_web_give_one_answer(case: str, client: TestClient,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    command, body, api = CASES[case]
    web = web_answer(client, command, body)
    line = client.post(f"/api/{command}/cli", json=body).json()["command"]
    capsys.readouterr()
    assert cli_main([*shlex.split(line)[1:]]) == 0, line
    cli = json.loads(capsys.readouterr().out)
    python = json.loads(api().model_dump_json())
    assert _without_wall_clock(python) == _without_wall_clock(cli) == _without_wall_clock(web), case


SWEEP_CASES: dict[str, tuple[str, Callable[[], Any]]] = {
    "facility": ("facility --accelerator gb200 --count 1152 --electricity-price 0.09/kWh --pue 1.15 --location ohio",
                 lambda: sweep_functions.facility(accelerator="gb200", count=1152, electricity_price="0.09/kWh",
                                                  pue=1.15, location="ohio")),
    "campus": ("campus --power 200MW --accelerator b200 --phases 2026:0.3,2027:0.7 --location ohio "
               "--server-price 40000",
               lambda: sweep_functions.campus(power="200MW", accelerator="b200", phases="2026:0.3,2027:0.7",
                                              location="ohio", server_price=40000)),
    "collective": ("collective all-to-all --system dgx-h100-superpod --gpus 64 --bytes 64MiB --sim flow",
                   lambda: sweep_functions.collective("all-to-all", "dgx-h100-superpod", 64, "64MiB", sim="flow")),
}


@pytest.mark.parametrize("case", sorted(SWEEP_CASES))
def test_a_sweep_function_of_plain_values_is_the_cli(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    line, function = SWEEP_CASES[case]
    capsys.readouterr()
    assert cli_main([*shlex.split(line), "--json"]) == 0, line
    cli = json.loads(capsys.readouterr().out)
    assert json.loads(function().model_dump_json()) == cli, case
