"""One name for one figure across commands (hX60): the job's mean time to an unexpected interruption is
`job_mttf_s` in `reliability --json`, `train --tokens --json` and `campus --json` alike (reliability and train
called it `mttf_s`, campus `job_mttf_s`), and the three give the same seconds for the same job."""

from __future__ import annotations

import pytest
from tests.cli.conftest import cli_json

TRAIN = "train llama3-8b --system h100-sxm --gpus 64 --tp 2 --pp 1 --seq-len 4096 --global-batch 256 --tokens 100G"


def test_the_job_mttf_has_one_name_and_one_value_across_commands(capsys: pytest.CaptureFixture[str]) -> None:
    campus = cli_json(capsys, "campus --power 30MW --accelerator h100-sxm")["training_capacity"]
    job = cli_json(capsys, ["reliability", "--system", campus["reference_system"], "--gpus",
                            str(campus["job_gpus"]), "--model", "llama3-405b"])
    run = cli_json(capsys, TRAIN)
    alone = cli_json(capsys, "reliability --system h100-sxm --gpus 64 --model llama3-8b")
    for answer in (campus, job, run, alone):
        assert "mttf_s" not in answer and answer["job_mttf_s"] > 0
    assert job["job_mttf_s"] == campus["job_mttf_s"]  # the campus's 16,384-GPU job, asked of reliability
    assert run["job_mttf_s"] == alone["job_mttf_s"]  # the run's job, asked of reliability
    # a job of 256x the GPUs fails 256x as often (the rate is per GPU: facility/checkpoint_goodput.job_mttf_s)
    assert alone["job_mttf_s"] == pytest.approx(256 * job["job_mttf_s"], rel=1e-9)
