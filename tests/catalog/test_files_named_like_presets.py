"""A stack file, or an accelerator file that `extends` a preset, saved under a shipped preset's name with other
settings or figures is taken as `<name>-what-if` with a warning; a copy with the preset's own is the preset
(catalog.stacks._named_like_preset, catalog.loader._named_like_preset; session 40)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from infraplan.catalog.answer_bands import band_stack
from infraplan.catalog.error_bands import stack_class
from infraplan.catalog.loader import load_accelerator
from infraplan.catalog.stacks import StackFileWarning, load_stack
from infraplan.training.estimate import estimate_training

PLAN = dict(model="llama3-70b", system="dgx-h100-superpod", gpus=64, tp=8, pp=1, seq_len=8192, global_batch=64)


def _file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_stack_file_with_a_presets_name_and_other_settings_is_a_what_if(tmp_path: Path) -> None:
    ref = _file(tmp_path, "mine.yaml", "name: nemo-26.04\nextends: nemo-26.04\ntp_comm_overlap_fraction: 0.0\n")
    with pytest.warns(StackFileWarning, match=r"tp_comm_overlap_fraction.*nemo-26.04-what-if"):
        stack = load_stack(ref)
    assert stack.name == "nemo-26.04-what-if"
    assert stack.tp_comm_overlap_fraction == 0.0
    # banded by its class, not as the shipped stack whose residuals were measured with the overlap on
    assert band_stack(stack) == stack.stack_class == "megatron"
    assert band_stack(load_stack("nemo-26.04")) == "nemo-26.04"
    preset = estimate_training(**PLAN)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StackFileWarning)
        mine = estimate_training(**PLAN, stack=ref)  # type: ignore[arg-type]
    assert mine.stack == "nemo-26.04-what-if" and preset.stack == "nemo-26.04"
    assert mine.step_time_s > preset.step_time_s  # TP communication no longer hidden


def test_stack_file_saved_under_a_presets_file_name_is_a_what_if_too(tmp_path: Path) -> None:
    ref = _file(tmp_path, "vllm-0.x.yaml", "extends: vllm-0.x\ncuda_graphs: false\n")
    with pytest.warns(StackFileWarning, match="cuda_graphs"):
        assert load_stack(ref).name == "vllm-0.x-what-if"


def test_stack_copy_with_the_presets_settings_is_the_preset(tmp_path: Path) -> None:
    ref = _file(tmp_path, "copy.yaml", "name: nemo-26.04\nextends: nemo-26.04\ndisplay_name: my copy\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error", StackFileWarning)
        stack = load_stack(ref)
    assert stack.name == "nemo-26.04" and stack_class(stack.name) == "megatron"


def test_accelerator_extends_file_with_a_presets_name_is_a_what_if(tmp_path: Path) -> None:
    ref = _file(tmp_path, "acc.yaml", "name: h100-sxm\nextends: h100-sxm\nmemory_bandwidth_bytes_per_s: 5TB/s\n")
    with pytest.warns(UserWarning, match="memory_bandwidth_bytes_per_s"):
        acc = load_accelerator(ref)
    assert acc.name == "h100-sxm-what-if" and acc.extends == "h100-sxm"
    assert acc.memory_bandwidth_bytes_per_s == 5e12
    same = _file(tmp_path, "same.yaml", "name: h100-sxm\nextends: h100-sxm\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_accelerator(same).name == "h100-sxm"
