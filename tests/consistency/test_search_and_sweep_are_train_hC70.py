"""The same question asked two ways (hC70, session 49): a plan's step time, MFU, memory, error band and notes are
one answer whether `search` ranks it, `sweep` runs it or `train` prices it.

* `search`'s best two rows are `train` of their `train_command`, field for field, and its notes hold every note
  `train` gives its best plan (the recipe, placement and MoE routing notes: 1 to 4 a case here), on the parts and
  kinds of plan hX3's cases (tests/training/test_two_ways_hX3_search.py: H100, H800, one B200 NVFP4 and one GB200
  MXFP8 MoE) did not reach: MI300X dense and MoE with EP, a B200 board in fp8, DeepSeek-V3's MLA with EP on GB200
  NVL72 racks in fp8, a dense model in NVFP4 on NVL72 racks;
* a `sweep` of `train` (the CLI, its Parquet rows read back with `results --sql`) holds in every output column
  what `train --json` prints for the point, flattened as the sweep flattens (`sweep.results.flatten`; notes joined).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.cli.conftest import cli_json

from infraplan.sweep.results import flatten

SEARCHES = {
    "mi300x-dense": "llama3-70b --system mi300x-cluster --gpus 64 --seq-len 4096 --global-batch 128",
    "mi300x-moe-ep-fp8": "mixtral-8x7b --system mi300x-cluster --gpus 64 --seq-len 4096 --global-batch 256 "
                         "--dtype fp8",
    "b200-fp8": "llama3-70b --system dgx-b200 --gpus 64 --seq-len 8192 --global-batch 128 --dtype fp8",
    "nvl72-mla-ep-fp8": "deepseek-v3 --system gb200-nvl72-superpod --gpus 512 --seq-len 4096 --global-batch 4096 "
                        "--dtype fp8",
    "nvl72-nvfp4": "llama3-70b --system gb200-nvl72-superpod --gpus 144 --seq-len 8192 --global-batch 144 "
                   "--dtype nvfp4",
}


@pytest.mark.parametrize("case", sorted(SEARCHES))
def test_the_best_rows_are_train_of_their_command(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    found = cli_json(capsys, ["search", *shlex.split(SEARCHES[case]), "--top", "2"])
    rows = found["top"]
    assert len(rows) == 2 and rows[0]["config"] != rows[1]["config"], case
    for row in rows:
        args = shlex.split(row["train_command"])
        assert args[:2] == ["infraplan", "train"]
        trained = cli_json(capsys, args[1:])
        shared = set(row) & set(trained) - {"train_command"}  # train's own is null: it is the command
        assert {"step_time_s", "mfu", "memory_per_gpu_bytes", "breakdown_s", "error_band", "config"} <= shared
        assert {key for key in shared if row[key] != trained[key]} == set(), (case, row["train_command"])
        if row is rows[0]:  # the search's notes say what train says of its best plan (and what it did not search)
            assert set(trained["notes"]) <= set(found["notes"]), case
    if case == "nvl72-mla-ep-fp8":  # the kind the case is named for: EP over MLA experts in fp8
        assert rows[0]["config"]["ep"] > 1 and rows[0]["config"]["dtype"] == "fp8"


SWEEP_FIXED = {"model": "mixtral-8x7b", "system": "dgx-h100-superpod", "gpus": 64, "seq_len": 4096,
               "global_batch": 256, "dtype": "fp8", "ep": 8}
SWEEP_TP = [1, 2]


def _flat_cli(row: dict[str, Any]) -> dict[str, Any]:
    flat = flatten(row)
    flat["notes"] = flatten({"notes": row["notes"]})["notes"]
    return flat


def test_sweep_rows_are_train_of_each_point(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "train.yaml"
    spec.write_text(yaml.safe_dump({"function": "train", "fixed": SWEEP_FIXED, "axes": {"tp": SWEEP_TP}}))
    out = tmp_path / "out"
    ran = cli_json(capsys, ["sweep", str(spec), "--workers", "1", "--out", str(out)])
    assert (ran["points_run"], ran["points_failed"]) == (len(SWEEP_TP), 0)
    table = cli_json(capsys, ["results", str(out), "--sql", "select * from results order by in_tp"])
    rows = [dict(zip(table["columns"], values, strict=True)) for values in table["rows"]]
    for tp, row in zip(SWEEP_TP, rows, strict=True):
        line = ["train", SWEEP_FIXED["model"], "--system", SWEEP_FIXED["system"], "--gpus", str(SWEEP_FIXED["gpus"]),
                "--seq-len", str(SWEEP_FIXED["seq_len"]), "--global-batch", str(SWEEP_FIXED["global_batch"]),
                "--dtype", "fp8", "--ep", "8", "--tp", str(tp)]
        trained = _flat_cli(cli_json(capsys, line))
        outputs = {key for key in row if not key.startswith("in_")} & set(trained)
        assert {"step_time_s", "mfu", "memory_per_gpu_bytes", "breakdown_s__ep_comm", "error_band__low",
                "config__tp", "notes"} <= outputs
        assert {key: (row[key], trained[key]) for key in outputs if row[key] != trained[key]} == {}, tp
        assert json.dumps(row["config__tp"]) == str(tp)
