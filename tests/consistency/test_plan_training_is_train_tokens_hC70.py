"""The same question asked two ways (hC70, session 49): a `plan` training service on a pool of a catalog system
(GB200 NVL72 racks, a DGX H100 SuperPOD with an MoE model, MI300X at a stated price) runs the plan `search` ranks
best there, and its wall clock, MFU and goodput are what `train --tokens` of that plan's `train_command` prints,
to the bit (tests/planning/test_plan_training_rows.py holds the generic H100 pool, through the Python API).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml
from tests.cli.conftest import cli_json

RUNS = [  # model, device, system, GPUs, sequence, global batch
    ("llama3-70b", "gb200", "gb200-nvl72-superpod", 576, 8192, 288),
    ("mixtral-8x7b", "h100-sxm", "dgx-h100-superpod", 256, 4096, 1024),
    ("llama3-70b", "mi300x", "mi300x-cluster", 256, 8192, 256),
]


@pytest.mark.parametrize(("model", "device", "system", "gpus", "seq_len", "batch"), RUNS)
def test_a_planned_training_run_is_train_tokens_of_searchs_best(model: str, device: str, system: str, gpus: int,
                                                                seq_len: int, batch: int, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "run.yaml"
    scenario.write_text(yaml.safe_dump({
        "name": "one-run", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "run", "kind": "training", "model": model, "tokens": "1T", "gpus": gpus,
                      "seq_len": seq_len, "global_batch": batch}],
        "pools": [{"name": "p", "device": device, "system": system, "site": "s", "price_usd_per_device": 30000}],
        "sites": [{"name": "s", "power": "1GW", "location": "ohio"}]}))
    (row,) = cli_json(capsys, ["plan", str(scenario)])["services"]
    (best,) = cli_json(capsys, ["search", model, "--system", system, "--gpus", str(gpus), "--seq-len", str(seq_len),
                                "--global-batch", str(batch), "--top", "1"])["top"]
    run = cli_json(capsys, [*shlex.split(best["train_command"])[1:], "--tokens", "1T", "--location", "ohio"])
    assert row["devices"] == gpus == run["config"]["gpus"]
    assert (row["time_to_train_s"], row["mfu"], row["goodput"]) == (run["time_to_train_s"], run["mfu"],
                                                                    run["goodput"])
    config = run["config"]
    assert row["detail"].startswith(f"TP{config['tp']} CP{config['cp']} PP{config['pp']} DP{config['dp']} "
                                    f"EP{config['ep']} {config['dtype']}")
