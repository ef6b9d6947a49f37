"""A LoRA rank above an adapted projection's narrow side (hM, session 56). Megatron-Bridge 0.6.0 builds every adapter
at the rank given (peft/lora.py:212 `adapter_cls(in_features, out_features, dim)`; the only bound is dim > 0,
peft/utils.py:357), so it is priced as it runs, and now said: the projections whose whole weight is narrower than
the rank, where the adapter's update can have no more than that rank. Before: accepted up to the hidden size in
silence (Qwen3-30B-A3B's experts are 768 wide beside a 2,048 hidden size; DeepSeek-V3's kv_up 512 beside 7,168)."""

from __future__ import annotations

import json

import pytest

from infraplan.catalog import load_model
from infraplan.cli.main import main as cli_main
from infraplan.training.frozen_base import LoraSpec, rank_notes

RUN = ["--system", "dgx-h100-superpod", "--gpus", "8", "--ep", "8", "--stack", "nemo-26.04", "--seq-len", "4096",
       "--global-batch", "64", "--micro-batch", "1", "--dtype", "bf16"]


def test_the_narrow_projections_are_named() -> None:
    v3 = load_model("deepseek-v3")
    assert rank_notes(v3, LoraSpec(512, "all")) == []  # kv_up's 512: at its side, not above
    # hT56: MLA's down projections are two adapters (`adapter_sites`): kv_down's 576 (kv_lora + rope) and q_down's
    # 1,536 are now sides of their own (the fused 2,112 was above both ranks)
    (note,) = rank_notes(v3, LoraSpec(600, "all"))
    assert note.startswith("LoRA rank 600 is above the narrow side of kv_down (576), kv_up (512):"), note
    (note,) = rank_notes(v3, LoraSpec(2000, "attention"))
    assert "q_down (1,536), kv_down (576), q_up (1,536), kv_up (512):" in note and "expert" not in note, note
    assert rank_notes(load_model("llama3-8b"), LoraSpec(4096, "all")) == []  # every side at least the hidden size


def test_train_says_it(capsys: pytest.CaptureFixture[str]) -> None:
    """Qwen3-30B-A3B, rank 1,024 on every projection: the experts' fc2 input (768) is the narrow one."""
    capsys.readouterr()
    assert cli_main(["train", "qwen3-30b-a3b", *RUN, "--lora-rank", "1024", "--lora-targets", "all", "--json"]) == 0
    notes = [n for n in json.loads(capsys.readouterr().out)["notes"] if "narrow side" in n]
    assert len(notes) == 1 and "expert_down (768)" in notes[0] and "Megatron-Bridge builds them" in notes[0], notes
    assert cli_main(["train", "qwen3-30b-a3b", *RUN, "--lora-rank", "512", "--lora-targets", "all", "--json"]) == 0
    assert not [n for n in json.loads(capsys.readouterr().out)["notes"] if "narrow side" in n]


def test_search_says_it(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    args = ["search", "qwen3-30b-a3b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096",
            "--global-batch", "64", "--lora-rank", "1024", "--lora-targets", "all", "--json"]
    assert cli_main(args) == 0
    notes = [n for n in json.loads(capsys.readouterr().out)["notes"] if "narrow side" in n]
    assert len(notes) == 1 and "expert_down (768)" in notes[0], notes
