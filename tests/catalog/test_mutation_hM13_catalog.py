"""Mutation wave 13 (hM13, session 41) on session 40's catalog code: a stack file saved under a shipped stack's name
(`catalog.stack_files`: what it is taken as, how it is named and what the warning says) and the published-MFU
ceiling's fallback basis (`catalog.published_mfu`)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from infraplan.catalog.published_mfu import published_mfu_ceiling
from infraplan.catalog.stack_files import LABELS
from infraplan.catalog.stacks import Stack, StackFileWarning, load_stack
from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training


def _file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    return str(path)


def test_a_copy_that_shards_over_no_part_of_dp_is_a_what_if_named_and_banded_as_such(tmp_path: Path) -> None:
    """nemo-26.04 with `zero_shard_stages: [3]` (session 40's setting: it runs ZeRO-1 over part of DP) is not the
    shipped stack: taken as nemo-26.04-what-if, its display name saying over what, the warning naming the setting
    and its class (megatron, not the preset's name), and `train --zero 1 --zero-shard 8` refused as the file
    says."""
    ref = _file(tmp_path, "name: nemo-26.04\nextends: nemo-26.04\nzero_shard_stages: [3]\n")
    with pytest.warns(StackFileWarning) as caught:
        stack = load_stack(ref)
    (warning,) = [w for w in caught if issubclass(w.category, StackFileWarning)]
    text = str(warning.message)
    assert "(zero_shard_stages)" in text and "taken as nemo-26.04-what-if" in text
    assert "banded by its class megatron (not as nemo-26.04)" in text
    preset = load_stack("nemo-26.04")
    assert stack.name == "nemo-26.04-what-if"
    assert stack.display_name == f"nemo-26.04-what-if (what-if over {preset.display_name})"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StackFileWarning)
        with pytest.raises(InputError, match="stack nemo-26.04-what-if does not run ZeRO-1 over part of DP"):
            estimate_training("llama3-70b", "dgx-h100-superpod", 512, tp=8, seq_len=8192, global_batch=512,
                              recompute="full", zero=1, stack=ref, zero_shard=8)


def test_only_names_and_source_texts_may_differ_in_a_copy_of_the_preset() -> None:
    """What a copy may change and stay the preset (module comment): its names and the `source` texts; every other
    field of `Stack` is a setting (a copy changing it is a what-if)."""
    names = {"name", "display_name", "source"}
    assert names <= LABELS
    assert all(k.endswith("_source") for k in LABELS - names)
    assert set(Stack.model_fields) >= LABELS


@pytest.mark.parametrize(("dtype", "family"), [("bf16", "ampere"), ("fp8", "blackwell")])
def test_an_unpublished_family_says_which_precision_it_lacks(dtype: str, family: str) -> None:
    """MI300X (CDNA 3) has no published MFU: the ceiling is the best of any family in that precision, its basis
    naming the family and the precision it has no figure in."""
    ceiling = published_mfu_ceiling("mi300x", None, dtype)
    assert ceiling is not None and ceiling.family == family
    assert ceiling.basis == f"no cdna3 {dtype} figure: the best of any family"
