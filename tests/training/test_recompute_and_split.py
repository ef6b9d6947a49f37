"""Block / auto recompute (`training.estimate.auto_recompute`) and the stack's pipeline split (`heaviest_stage`)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training
from infraplan.training.schedules import heaviest_stage

PLAN = dict(tp=4, pp=16, vpp=4, seq_len=8192, global_batch=1536, micro_batch=1, dtype="fp8", stack="nemo-26.04")


def test_block_recompute_sits_between_none_and_full_in_memory_and_time() -> None:
    runs = [estimate_training("llama3-405b", "gb200-nvl72", 256, recompute=r, recompute_layers=k, **PLAN)
            for r, k in (("none", 0), ("full", 1), ("full", 0))]
    memory = [r.memory_breakdown_bytes.activations for r in runs]
    step = [r.step_time_s for r in runs]
    hfu_flops = [r.hfu * r.step_time_s for r in runs]  # hardware FLOPs per step, up with recompute
    assert memory[0] > memory[1] > memory[2]
    assert step[0] < step[1] < step[2]
    assert hfu_flops[0] < hfu_flops[1] < hfu_flops[2]
    assert runs[1].config.recompute_layers == 1


def test_auto_recompute_takes_the_least_rung_that_fits_and_says_so() -> None:
    # the stack's plain even split (a Stack object as given): by name nemo-26.04 runs the 405B recipe's split,
    # which fits this plan without recompute (tests/training/test_model_recipes.py)
    bare = {**PLAN, "stack": load_stack("nemo-26.04").model_copy(update={"pipeline_split_divisible": False})}
    # a GB200 of 186e9 B (173.2 GiB, the catalog's figure until session 49; nvidia-smi's 189,471 MiB holds this
    # plan's 178.7 GiB without recompute): the bare split then needs one rung of recompute
    small_gb200 = Cluster.resolve("gb200-nvl72")
    small_gb200 = Cluster(small_gb200.system, small_gb200.accelerator.model_copy(update={"memory_bytes": 186e9}),
                          small_gb200.generic)
    # (margin 0: the ladder's first rung that fits at all; the default 5 % margin: tests/training/
    # test_auto_recompute_margin_hW73.py)
    auto = estimate_training("llama3-405b", small_gb200, 256, recompute="auto", memory_margin=0.0, **bare)
    plain = estimate_training("llama3-405b", small_gb200, 256, recompute="none", **bare)
    roomy = estimate_training("llama3-405b", "gb200-nvl72", 256, recompute="auto", memory_margin=0.0, **bare)
    # the catalog's 185 GiB GB200: selective (188.9 GiB without recompute since hA57 counts the fused attention's
    # saved bf16 O beside the projection's fp8 copy, `training.fp8_dpa.ATTENTION_SAVES_OUTPUT`; 178.7 before: none)
    assert roomy.fits and roomy.config.recompute == "selective"
    assert not plain.fits and auto.fits
    assert (auto.config.recompute, auto.config.recompute_layers) == ("full", 1)  # 1 of 2 layers per chunk
    assert any("--recompute auto: full recompute of 1 of 2 layers" in n for n in auto.notes)
    small = estimate_training("llama3-8b", "dgx-h100-superpod", 8, recompute="auto", tp=1, seq_len=2048,
                              global_batch=64, micro_batch=1)
    assert small.fits and small.config.recompute == "none" and "fits without recompute" in small.notes[-1]


def test_auto_recompute_states_when_nothing_fits() -> None:
    huge = estimate_training("llama3-405b", "dgx-h100-superpod", 8, recompute="auto", tp=8, seq_len=8192,
                             global_batch=64)
    assert not huge.fits and huge.config.recompute == "full" and "nothing fits" in huge.notes[-1]


def test_recompute_layers_need_full_recompute() -> None:
    with pytest.raises(InputError, match="needs --recompute full"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=1, recompute="selective", recompute_layers=2)


def test_even_split_keeps_the_head_on_a_full_last_stage() -> None:
    # 36 layers on PP4: even = 9 per stage, the LM head on top of the last; balanced moves a layer off it
    even = heaviest_stage(36, 4, 1.0, 0.0, 2.5, "even")
    balanced = heaviest_stage(36, 4, 1.0, 0.0, 2.5, "balanced")
    assert float(even[0][()]) == 11.5 and float(even[1][()]) == 9 and bool(even[2][()])
    assert float(balanced[0][()]) < float(even[0][()])


def test_embedding_and_loss_counted_as_layers_free_the_end_stages() -> None:
    # Llama 3.1 405B: 126 + 2 = 128 = 16 x 8 -> 8 per stage, the first and the last build 7
    seconds, layers, last, _ = heaviest_stage(126, np.array([16.0]), np.array([1.0]), 0.0, np.array([0.5]), "even",
                                              True, True)
    assert float(seconds[0]) == 8.0 and float(layers[0]) == 8 and not bool(last[0])  # a middle stage sets the pace
    seconds, layers, last, _ = heaviest_stage(126, np.array([16.0]), np.array([1.0]), 0.0, np.array([1.5]), "even",
                                              True, True)
    assert float(seconds[0]) == 8.5 and float(layers[0]) == 7 and bool(last[0])


def test_stacks_state_their_framework_split() -> None:
    assert load_stack("nemo-26.04").pipeline_split == "even"
    assert load_stack("megatron-core-0.8").pipeline_split == "even"
    assert load_stack("deepspeed").pipeline_split == "balanced"
    assert load_stack("meta-llama3").pipeline_split == "balanced"
    gpt_oss = dict(tp=1, pp=4, ep=8, seq_len=4096, global_batch=1280, micro_batch=1, order="tp-cp-dp-pp")
    even = estimate_training("gpt-oss-120b", "dgx-h100-superpod", 64, stack=load_stack("nemo-26.04"), **gpt_oss)
    balanced = estimate_training("gpt-oss-120b", "dgx-h100-superpod", 64,
                                 stack=load_stack("nemo-26.04").model_copy(update={"pipeline_split": "balanced"}),
                                 **gpt_oss)
    assert even.step_time_s > balanced.step_time_s  # the 201k-vocab head lands on a full 9-layer last stage
