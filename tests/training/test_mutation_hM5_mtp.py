"""Mutation wave 5 (hM5): the MTP modules' memory terms (`training.memory`, module docstring, DeepSeek-V3
arXiv:2412.19437 sec. 2.2): eh_proj is a 2h x h column-parallel linear, so TP shards it."""

from __future__ import annotations

import numpy as np

from infraplan.catalog import load_model
from infraplan.training.estimate import resolve_training
from infraplan.training.memory import local_layer_params, mtp_module_params

H = 2048  # Qwen3-30B-A3B hidden size (config.json)


def test_eh_proj_is_split_over_tp() -> None:
    shape = load_model("qwen3-30b-a3b")
    for tp in (1, 2, 4):
        plan = resolve_training(shape, "dgx-b200", 8 * tp, tp=tp, ep=8, seq_len=4096, global_batch=64,
                                order="tp-cp-dp-pp").plan
        modules, _ = mtp_module_params(shape, plan, 2)
        # two modules: each a layer of the decoder's last kind and eh_proj's 2h x h / TP weights
        assert np.ravel(modules - 2 * local_layer_params(shape, plan)).tolist() == [2 * (2 * H * H / tp)]


def test_the_mtp_modules_sit_on_one_end_stage_never_a_middle_one() -> None:
    # module docstring: the last stage holds them (Megatron-Core builds them with post_process), or the first
    # stage's rank under a mirrored schedule (DualPipe, ZB-V), which holds the last stage too; no middle stage
    from infraplan.training import memory
    from infraplan.training.activation_memory import FIRST, LAST, MIDDLE

    shape = load_model("qwen3-30b-a3b")
    for schedule, first, last in (("1f1b", 0.0, 1.0), ("dualpipe", 1.0, 0.0)):
        plan = resolve_training(shape, "dgx-b200", 32, pp=4, ep=8, seq_len=4096, global_batch=64,
                                order="tp-cp-dp-pp", schedule=schedule).plan
        on = [float(np.ravel(memory.mtp_on(plan, kind))[0]) for kind in (FIRST, MIDDLE, LAST)]
        assert on == [first, 0.0, last]
