"""A stack's class (error bands, the search guard's published-MFU ceiling) is the `stack_class` its file declares,
a shipped profile's or a user's file's (hN, session 53). `error_bands.stack_class` read the name's prefix before:
meta-llama3.yaml declares megatron (its fields are megatron-core-0.8's) but was classed "meta", and a file
nemo-custom.yaml declaring deepspeed was classed megatron. A user's file declaring a class no shipped stack has
says so in one warning line, and its band is the validated classes' widened (`catalog.band_transfer`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.error_bands import load_residuals, stack_class
from infraplan.catalog.stack_files import StackFileWarning
from infraplan.catalog.stacks import list_stacks, load_stack
from infraplan.training import estimate_training

PLAN = dict(gpus=8, tp=8, seq_len=1024, global_batch=8, dtype="bf16")


def test_every_shipped_stack_is_classed_as_its_file_declares() -> None:
    for name in list_stacks():
        assert stack_class(name) == load_stack(name).stack_class, name
    assert stack_class("meta-llama3") == "megatron"  # (was "meta": its name's first word)


def test_a_users_file_is_classed_by_its_declaration_not_its_name(tmp_path: Path) -> None:
    path = tmp_path / "nemo-custom.yaml"
    path.write_text("extends: deepspeed\n")
    assert stack_class(str(path)) == "deepspeed"  # (was megatron: the name's "nemo" prefix)
    assert stack_class("/nowhere/nemo-custom.yaml") == "megatron"  # no file to read: its name's prefix, as before


def test_an_unknown_class_is_said_and_its_band_widened(tmp_path: Path) -> None:
    path = tmp_path / "ours.yaml"
    path.write_text("extends: nemo-26.04\nstack_class: ourframework\ncuda_graphs: false\n")
    with pytest.warns(StackFileWarning, match="declares stack_class 'ourframework', no shipped stack's"):
        load_stack(str(path))
    ours = estimate_training("llama3-8b", "dgx-h100-superpod", stack=str(path), **PLAN).error_band
    megatron = estimate_training("llama3-8b", "dgx-h100-superpod", stack="megatron-core-0.8", **PLAN).error_band
    assert ours is not None and megatron is not None
    assert "no validated training case of stack class ourframework" in ours.basis
    assert ours.low < megatron.low and ours.high > megatron.high


def test_the_stored_residuals_carry_the_declared_classes() -> None:
    """The written bands label each training case by its stack file's class (`validate --write-error-bands`): the
    Llama 3 paper's rows (meta-llama3) are megatron's, no row is of a class no shipped stack declares."""
    declared = {load_stack(name).stack_class for name in list_stacks()}
    rows = load_residuals("training")
    assert {r.stack for r in rows} <= declared
    assert {r.stack for r in rows if r.id.startswith("llama3-405b")} == {"megatron"}
