"""Leftovers of the planner review (validation/notes/product_review_tried.md): one message for a job larger than its
system, "an ASIC", and no LLM training on a CPU preset. Each test failed before its fix."""

from __future__ import annotations

import pytest

TRAIN = ["llama3-8b", "--seq-len", "2048", "--global-batch", "8"]


def test_a_job_beyond_its_system_names_the_accelerator_preset_in_one_message(cli) -> None:
    """train and search said "system X has N accelerators" with no way on; reliability named the preset that takes
    any count. One helper (`Cluster.check_gpus`) now says it for all three."""
    errors = []
    for command in (["train", *TRAIN], ["search", *TRAIN], ["reliability"]):
        code, out, err = cli([*command, "--system", "meta-rsc", "--gpus", "99999"])
        assert code == 2 and not out.strip() and err.count("\n") == 1
        errors.append(err)
    assert len(set(errors)) == 1
    assert "meta-rsc has 16,000 accelerators (the accelerator preset a100-80gb takes any count)" in errors[0]
    code, _, err = cli(["reliability", "--system", "a100-80gb", "--gpus", "99999"])  # which it does
    assert code == 0, err


def test_video_on_an_asic_says_an_asic(cli) -> None:
    code, _, err = cli(["video", "--device", "mtia-v2"])
    assert code == 2 and "mtia-v2 is an ASIC, not a CPU" in err
    code, _, err = cli(["video", "--device", "h100-sxm"])
    assert code == 2 and "h100-sxm is a GPU, not a CPU" in err


@pytest.mark.parametrize("command", ["train", "search"])
def test_llm_training_on_a_cpu_preset_is_refused_in_one_line(cli, command: str) -> None:
    """`train llama3-8b --system xeon-8480` answered MFU 50 %: the catalog's AMX matmul fraction (0.60 of the
    derived peak) is an ASSUMPTION with no CPU training measurement behind it, so no CPU training time is physical.
    Refused as facility and campus refuse a CPU."""
    code, out, err = cli([command, *TRAIN, "--system", "xeon-8480", "--gpus", "8"])
    assert code == 2 and not out.strip() and err.count("\n") == 1
    assert "xeon-8480 is a CPU; LLM training needs an accelerator" in err
