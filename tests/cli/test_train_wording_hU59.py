"""`train`'s human output (hU59, session 45): a plan that fits with less than the memory margin left says so, as
search's table does (it printed "fits: yes" alone while its JSON said `low_memory_headroom: true`), and a whole run
(`--tokens`) gives its GPU-hours within the throughput error band."""

from __future__ import annotations

import re

import pytest
from tests.cli.conftest import CliRun, cli_json

# DeepSeek's own plan on 2,048 H800 (README): 3.0 GiB of 80 GiB left, under the 5 % margin
DEEPSEEK = ["train", "deepseek-v3", "--system", "h800", "--gpus", "2048", "--tp", "1", "--pp", "16", "--ep", "64",
            "--schedule", "dualpipe", "--order", "tp-cp-dp-pp", "--seq-len", "4096", "--global-batch", "15360",
            "--dtype", "fp8", "--recompute", "selective", "--zero", "1", "--stack", "deepseek-v3",
            "--tokens", "14.8e12"]


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_a_tight_plan_says_so_and_the_run_gives_its_gpu_hours_in_the_band(
        cli: CliRun, capsys: pytest.CaptureFixture[str]) -> None:
    data = cli_json(capsys, DEEPSEEK)
    code, out, _ = cli(DEEPSEEK)
    assert code == 0 and data["fits"] and data["low_memory_headroom"]
    flat = _flat(out)
    assert f"! low memory headroom: {_flat(data['low_memory_headroom_reason'])}" in flat
    found = re.search(r"GPU-hours within the error band: measured likely ([\d.]+) M GPU-h to ([\d.]+) M GPU-h", flat)
    assert found is not None
    low, high = (float(v) * 1e6 for v in found.groups())
    band = data["error_band"]
    # measured throughput = predicted / (1 + r), so the run's time (and GPU-hours) = predicted x (1 + r)
    assert low == pytest.approx(data["gpu_hours"] * (1 + band["low"]), rel=0.01)
    assert high == pytest.approx(data["gpu_hours"] * (1 + band["high"]), rel=0.01)
    assert low < 2.664e6 < high  # DeepSeek-V3 report Table 1: 2.664 M H800 GPU-hours of pre-training (14.8T tokens)


def test_a_plan_with_room_prints_no_headroom_line(cli: CliRun, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "8192",
            "--global-batch", "64", "--tp", "2"]
    data = cli_json(capsys, args)
    code, out, _ = cli(args)
    assert code == 0 and data["fits"] and not data["low_memory_headroom"]
    assert "low memory headroom" not in out and "within the error band" not in out  # no --tokens: no run line
