"""An ML-systems engineer's review (hU53): the CLI's side of its fixes."""

from __future__ import annotations

import pytest
from tests.cli.conftest import CliRun, cli_json

SEARCH = ["search", "llama3-8b", "--system", "dgx-h100-superpod", "--seq-len", "4096", "--global-batch", "64"]


@pytest.mark.parametrize("counts", ["8,16,8", "8,8"])
def test_a_gpu_count_given_twice_is_refused_in_one_line(cli: CliRun, counts: str) -> None:
    code, out, err = cli([*SEARCH, "--gpus", counts])
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.strip().endswith("8 is given twice; give each count once") and len(err.strip().splitlines()) == 1


def test_distinct_counts_still_draw_a_curve(capsys: pytest.CaptureFixture[str]) -> None:
    data = cli_json(capsys, [*SEARCH, "--gpus", "8,16"])
    assert [point["gpus"] for point in data["scaling"]] == [8, 16]


def test_serve_closed_loop_without_requests_runs_ten_per_client(capsys: pytest.CaptureFixture[str]) -> None:
    data = cli_json(capsys, "serve llama3-8b --system h100-sxm --gpus 1 --dtype fp8 --input-len 64 --output-len 32 "
                            "--concurrency 300")
    assert data["requests"] == 3000 and data["concurrency"] == 300


def test_train_on_the_deepseek_stack_runs_its_one_schedule(capsys: pytest.CaptureFixture[str]) -> None:
    data = cli_json(capsys, "train deepseek-v3 --system h800 --gpus 2048 --pp 16 --ep 64 --seq-len 4096 "
                            "--global-batch 15360 --dtype fp8 --stack deepseek-v3 --recompute selective")
    assert (data["config"]["schedule"], data["config"]["order"]) == ("dualpipe", "tp-cp-dp-pp")
