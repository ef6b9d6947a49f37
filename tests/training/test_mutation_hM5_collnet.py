"""Mutation wave 5 (hM5): `training.collnet`'s notes, as its docstrings state them."""

from __future__ import annotations

from infraplan.catalog.stacks import resolve_stack
from infraplan.cluster import Cluster
from infraplan.training.collnet import sharp_note, stack_collnet_notes


def test_a_stack_without_nccl_collnet_says_nothing_on_any_fabric() -> None:
    profile = resolve_stack(None, "training")
    assert not profile.nccl_collnet
    for system in ("dgx-h100-superpod", "meta-genai-roce-24k"):
        assert stack_collnet_notes(profile, Cluster.resolve(system), 0) == []


def test_a_stack_with_nccl_collnet_is_said_on_sharp_switches_and_falls_back_on_roce() -> None:
    profile = resolve_stack(None, "training").model_copy(update={"nccl_collnet": True})
    sharp = stack_collnet_notes(profile, Cluster.resolve("dgx-h100-superpod"), 0)
    assert sharp == [f"stack {profile.name} (nccl_collnet): the DP gradient all-reduce reduces in the switches "
                     "(IB SHARP, NCCL CollNet)"]
    (roce,) = stack_collnet_notes(profile, Cluster.resolve("meta-genai-roce-24k"), 0)
    assert "keeps its ring / tree" in roce and "minipack2 does no in-network reduction" in roce


def test_only_zero_0_reduces_in_the_switches() -> None:
    assert "reduces in the switches" in sharp_note(0)
    for zero in (1, 2, 3):
        assert sharp_note(zero).startswith(f"--sharp: ZeRO {zero} reduce-scatters and all-gathers over DP")


def test_train_sharp_says_the_knob_not_the_stack() -> None:
    from infraplan.training.estimate import resolve_training

    point = resolve_training("llama3-70b", "dgx-h100-superpod", 1024, tp=8, pp=4, seq_len=8192, global_batch=512,
                             zero=0, sharp=True)
    assert point.profile.nccl_collnet
    assert "--sharp: the DP gradient all-reduce reduces in the switches (IB SHARP, NCCL CollNet)" in point.notes
    assert not any("(nccl_collnet)" in n for n in point.notes)
