"""The same question asked two ways (hX3, session 39): every row of `search`'s top-k, not only the best, is what
`train` prints for that row's `train_command`, field for field (step time, breakdown, memory, MFU, error band, the
published-MFU flag, the config), on each kind of plan the search ranks: MoE with EP in fp8, CP at a long sequence,
interleaved pipelines, NVFP4 on Blackwell, MXFP8 MoE on NVL72, DeepSeek-V3 on its own stack, and the stacks whose
limits shape the grid (torchtitan's ZeRO and schedules, DeepSpeed's 1F1B and ZeRO 0-1 with PP, Megatron-Core 0.8).
"""

from __future__ import annotations

import json
import shlex

import pytest
from tests.cli.conftest import cli_json

SEARCHES = {
    "moe-fp8": "mixtral-8x7b --system dgx-h100-superpod --gpus 64 --seq-len 4096 --global-batch 256 --dtype fp8",
    "interleaved": "llama3-70b --system dgx-h100-superpod --gpus 64 --seq-len 8192 --global-batch 128",
    "cp": "llama3-8b --system dgx-h100-superpod --gpus 32 --seq-len 32768 --global-batch 32",
    "torchtitan": "llama3-8b --system dgx-h100-superpod --gpus 64 --seq-len 4096 --global-batch 256 --stack torchtitan",
    "deepspeed": "llama3-70b --system dgx-h100-superpod --gpus 64 --seq-len 4096 --global-batch 128 --stack deepspeed",
    "megatron-core-0.8": "llama3-8b --system h100-sxm --gpus 16 --seq-len 4096 --global-batch 64 "
                         "--stack megatron-core-0.8",
    "mxfp8-moe-nvl72": "qwen3-30b-a3b --system gb200-nvl72-superpod --gpus 64 --seq-len 4096 --global-batch 256 "
                       "--dtype mxfp8",
    "nvfp4": "llama3-8b --system dgx-b200 --gpus 16 --seq-len 4096 --global-batch 64 --dtype nvfp4",
    "deepseek-v3-stack": "deepseek-v3 --system h800 --gpus 2048 --seq-len 4096 --global-batch 15360 --dtype fp8 "
                         "--stack deepseek-v3",
}



@pytest.mark.parametrize("case", sorted(SEARCHES))
def test_every_top_row_is_train_of_its_train_command(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    found = cli_json(capsys, ["search", *shlex.split(SEARCHES[case]), "--top", "6"])
    rows = found["top"]
    assert len(rows) >= 3, case  # a ranking, not only the best
    configs = {json.dumps(r["config"], sort_keys=True) for r in rows}
    assert len(configs) == len(rows)  # distinct plans
    for row in rows:
        args = shlex.split(row["train_command"])
        assert args[:2] == ["infraplan", "train"]
        trained = cli_json(capsys, args[1:])
        shared = sorted(set(row) & set(trained) - {"train_command"})  # train's own is null: it is the command
        assert {"step_time_s", "breakdown_s", "memory_per_gpu_bytes", "memory_breakdown_bytes", "mfu", "config",
                "error_band", "beyond_published_mfu"} <= set(shared)
        for key in shared:
            assert trained[key] == row[key], (case, key, row["train_command"])
