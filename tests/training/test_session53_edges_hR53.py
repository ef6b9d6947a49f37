"""Edges of session 53's training mechanisms that hand mutants showed no test held (hR, session 53).

Each test names the mutant it kills (the mutant was applied to the source and these tests run: each mutant survived
the session's own tests, tests/training/test_{fsdp2_copies_hT53,deepspeed_p2p_hK53,zero2_megatron_fsdp_hN53,
plan_order_follows_stack_hN53}.py, and fails here). The stack-field refusals are new: each file was taken before
(`fsdp2_copy_passes` without ZeRO-3's per-micro-batch gathers and `p2p_transfers_per_micro_batch` without blocking
p2p were read nowhere; `adamw_bytes_per_param: 1e300` gave `train` a null step time at exit 0).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.hardware.kernels import memory_bound_seconds
from infraplan.scalar_path import FLOAT_OPS
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training
from infraplan.training.fsdp2_copies import fsdp2_copy_time, fsdp2_step_copies
from infraplan.training.host_time import BLOCKING_P2P_HOST_CALLS
from infraplan.training.layer_kernels import partitioned_checkpoint_seconds
from infraplan.training.one_plan_memo import cluster_pricing
from infraplan.training.pipeline_hops import chain_mean, pipeline_p2p_time
from infraplan.training.plan import PlanArrays
from infraplan.training.stack_limits import rank_order

TT = load_stack("torchtitan")
DS = load_stack("deepspeed")
CLUSTER = Cluster.resolve("dgx-a100-superpod")
RATES = cluster_pricing(CLUSTER, DS).rates


def test_fsdp2_copies_launch_three_kernels_a_unit_and_the_root() -> None:
    """Mutant `lt["stage_layers"] + 1.0` -> `lt["stage_layers"]`: the FSDP units are the stage's blocks and the root
    module (embedding, norm, output), 3 launches each a micro-batch (the session's hand check held 1e-3, which the
    missing unit's 3 launches, 12 us of 38 ms, pass)."""
    plan = PlanArrays.one_plan(tp=1, pp=1, dp=8, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=32,
                               seq_len=8192, recompute=int(Recompute.SELECTIVE), zero=3, dtype=int(Dtype.BF16),
                               attention=int(Attention.FLASH), order=int(RankOrder.TP_CP_PP_DP), sequence_parallel=1)
    params, tables, m = 1.0e9, 0.2e9, 4.0
    kept = tables + (params - tables) / 32.0  # the root and the last block: one copy-out a micro-batch (hS53)
    got = fsdp2_step_copies(plan.one_row, {"stage_layers": 32.0}, {"params": params, "table_params": tables}, TT, m,
                            RATES, FLOAT_OPS)
    assert got == memory_bound_seconds(RATES, m * (params * 14.0 - kept * 4.0), m * (33 * 3.0 - 2.0))
    assert got == fsdp2_copy_time(True, params, 33.0, m, TT, RATES, FLOAT_OPS, kept)


def test_blocking_steady_state_pays_the_slowest_hop_on_every_transfer() -> None:
    """Mutant `+ k * steady` -> `+ 2 m v steady`: DeepSpeed's 4 transfers a micro-batch each wait for the slowest hop
    where some hop crosses a domain (`pipeline_hops`), not 2 (the session's tests price one hop time)."""
    t_in, t_out, m, pp, dispatch = 1.0e-4, 5.0e-4, 16.0, 4.0, 2.6e-5
    mean = chain_mean(pp, 1.0, t_in, t_out, 1.0)
    k = 4.0 * m
    hand = (k + 2.0 * (pp - 1.0)) * (mean + BLOCKING_P2P_HOST_CALLS * dispatch) + k * (t_out - mean)
    got = pipeline_p2p_time(pp, 1.0, m, 0.0, DS, dispatch, (t_in, t_out, 1.0))
    assert got == pytest.approx(hand, rel=1e-12)
    assert t_out > mean > t_in  # (the steady term is not 0 here)


def test_partitioned_checkpoint_copies_by_hand_and_the_array_path() -> None:
    """Mutants in `partitioned_checkpoint_seconds`: forward clones the 1 / TP slice (read + write); backward writes the
    full input (zeros) and copies the slice in (read + write), 2 launches; a plan with SP is 0 in the array path too
    (the session's tests checked the all-gather and `other` rising, not its size)."""
    elements = 2048 * 20480.0
    saved, tp = elements * 2.0, 8
    one = PlanArrays.one_plan(tp=tp, pp=35, dp=8, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=1920,
                              seq_len=2048, recompute=int(Recompute.FULL), zero=1, dtype=int(Dtype.BF16),
                              attention=int(Attention.UNFUSED), order=int(RankOrder.TP_CP_DP_PP), sequence_parallel=0)
    fwd, bwd, gather = partitioned_checkpoint_seconds(RATES, CLUSTER.fabric, one.one_row, elements, True, True)
    assert fwd == memory_bound_seconds(RATES, 2.0 * saved / tp, 1.0)
    assert bwd == memory_bound_seconds(RATES, saved + 2.0 * saved / tp, 2.0)
    assert gather > 0.0
    grid = PlanArrays.build(tp=tp, pp=35, dp=8, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=1920, seq_len=2048,
                            recompute=Recompute.FULL, zero=1, dtype=Dtype.BF16, attention=Attention.UNFUSED,
                            order=RankOrder.TP_CP_DP_PP, sequence_parallel=np.array([0, 1]))
    fwds, bwds, _ = partitioned_checkpoint_seconds(RATES, CLUSTER.fabric, grid, elements, np.array([True, True]),
                                                   False)
    assert np.asarray(fwds) == pytest.approx([fwd, 0.0], rel=1e-12)
    assert np.asarray(bwds) == pytest.approx([bwd, 0.0], rel=1e-12)


def test_partitioned_checkpoint_forward_copies_are_in_the_step() -> None:
    """Mutant dropping `copies_fwd` from `other_fwd` (layer_time): MT-NLG's plan (TP8 PP35, 3 layers a stage, 240
    micro-batches) adds 240 x 3 x (forward + backward copies) to `other`."""
    on_stack = DS.model_copy(update={"partition_checkpointed_activations": True})
    plan: dict[str, Any] = dict(tp=8, pp=35, dp=8, seq_len=2048, global_batch=1920, micro_batch=1, recompute="full",
                                zero=1, dtype="bf16", attention="unfused", vpp=1, sequence_parallel=False)
    on, off = (estimate_training("megatron-529.6b", "dgx-a100-superpod", 2240, stack=s, **plan) for s in (on_stack, DS))
    saved = 2048 * 20480 * 2.0
    per_layer = (memory_bound_seconds(RATES, 2.0 * saved / 8, 1.0)
                 + memory_bound_seconds(RATES, saved + 2.0 * saved / 8, 2.0))
    assert on.breakdown_s.other - off.breakdown_s.other == pytest.approx(240 * 3 * per_layer, rel=1e-6)


def test_zero2_per_micro_batch_adds_only_what_the_backward_window_leaves() -> None:
    """Mutant `traffic["scatter"] - bwd_window` -> `traffic["scatter"]`: a reduce-scatter hidden under its backward
    (Llama 3 8B, 8 H100, m = 8) stays hidden however often it runs."""
    off = load_stack("nemo-26.04").model_copy(update={"zero2_grad_reduce_per_micro_batch": False})
    plan: dict[str, Any] = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=8, tp=1, pp=1, seq_len=4096,
                                recompute="none", micro_batch=1, zero=2, global_batch=64)
    on = estimate_training(**plan, stack="nemo-26.04")
    assert on.breakdown_s.dp_comm_exposed == estimate_training(**plan, stack=off).breakdown_s.dp_comm_exposed == 0.0


def test_a_stack_without_rank_order_numbers_tp_cp_pp_dp() -> None:
    """Mutant of `stack_limits.DEFAULT_RANK_ORDER`: a stack naming no rank order (and none) prices tp-cp-pp-dp, the
    order `train` priced before stacks named theirs. (The stack was deepspeed until it named its topology's
    tp-cp-dp-pp, hK session 54; torchtitan names none.)"""
    titan = load_stack("torchtitan")
    assert titan.rank_order is None
    assert rank_order(titan) == rank_order(None) == int(RankOrder.TP_CP_PP_DP)
    assert rank_order(load_stack("nemo-26.04")) == int(RankOrder.TP_CP_DP_PP)


def _stack_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("text", "words"), [
    ("extends: megatron-lm-2022\nfsdp2_copy_passes: true\n", "set zero3_collectives_per_micro_batch too"),
    ("extends: deepspeed\np2p_synchronize: false\n", "set p2p_synchronize"),
    ("extends: megatron-core-0.8\np2p_transfers_per_micro_batch: 4\n", "set p2p_synchronize"),
    ("extends: torchtitan\nadamw_bytes_per_param: 1e300\n", "less than or equal to 1000"),
])
def test_stack_fields_read_only_beside_another_are_refused(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(InputError, match=words):
        load_stack(_stack_file(tmp_path, text))


def test_stack_fields_beside_what_reads_them_load(tmp_path: Path) -> None:
    """The same fields where they are read: nemo's blocking VP = 1 plans, and FSDP2 on a per-micro-batch ZeRO-3."""
    assert load_stack(_stack_file(tmp_path, "extends: nemo-26.04\np2p_transfers_per_micro_batch: 4\n"))
    assert load_stack(_stack_file(tmp_path, "extends: nemo-26.04\nfsdp2_copy_passes: true\n")).fsdp2_copy_passes


def test_a_serving_stack_file_of_its_own_class_is_not_warned(tmp_path: Path) -> None:
    """Mutant dropping `kind != "training"` in `stack_files.unknown_class`: a serving answer is banded by its engine
    (`answer_bands.serving_band_stack`), so a serving file's own class says nothing; a training file's does."""
    import warnings

    from infraplan.catalog.stack_files import StackFileWarning

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        serving = load_stack(_stack_file(tmp_path, "extends: vllm-0.x\nstack_class: myengine\n"))
    assert serving.stack_class == "myengine"
    assert not [w for w in seen if issubclass(w.category, StackFileWarning)]
    other = tmp_path / "other"
    other.mkdir()
    with pytest.warns(StackFileWarning, match="declares stack_class 'myengine'"):
        load_stack(_stack_file(other, "extends: deepspeed\nstack_class: myengine\n"))
