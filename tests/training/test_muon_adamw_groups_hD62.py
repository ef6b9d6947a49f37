"""Muon's AdamW group in every whole-model figure of its state (hD, session 62): megatron-core 0.16.1
optimizer/muon.py:251-258 steps the 2-D parameters that are not the embedding or the output layer on Muon and hands
the rest to AdamW (:321-333), which keeps its two moments (:214-222). `train`'s memory priced that split per rank
since hK61; `plan`'s first count and a run's checkpoint (`train --tokens`, `plan`, `reliability --optimizer`) priced
every parameter at Muon's rate. Now all of them read one rule (`optimizer_models.bytes_per_param_of` over
`adamw_params`)."""

from __future__ import annotations

import json

import pytest

from infraplan.catalog.loader import load_model
from infraplan.cli.main import main as cli_main
from infraplan.training.estimate import estimate_training
from infraplan.training.optimizer_models import adamw_params, bytes_per_param_of, checkpoint_bytes_per_param
from infraplan.training.optimizers import training_stack
from infraplan.training.state_memory import trained_bytes_per_param


@pytest.mark.parametrize(("model", "device"), [("llama3-8b", "h100-sxm"), ("llama3-70b", "h100-sxm"),
                                               ("gpt3-175b", "h200"), ("kimi-k2", "h200")])
def test_plans_first_count_holds_what_trains_memory_holds(model: str, device: str) -> None:
    """The bytes a parameter `plan`'s first count reads equal what `train`'s memory model holds on one device at
    ZeRO 0 (weights + gradients + optimizer state over the parameters), for Muon as for Adam: Llama 3 8B's tables
    (13.1 % of it) at AdamW's 12 B put Muon at 14.52 B, not 14 (gpt3-175b: one tied table)."""
    shape = load_model(model)
    for optimizer in ("adam", "muon"):
        e = estimate_training(model, device, 1, seq_len=4096, global_batch=8, zero=0, optimizer=optimizer)
        m = e.memory_breakdown_bytes
        held = (m.weights + m.gradients + m.optimizer) / e.parameters
        assert trained_bytes_per_param(training_stack(None, shape, optimizer), shape) == pytest.approx(held,
                                                                                                       rel=1e-12)
    tables = adamw_params(shape) / shape.total_params()
    muon = trained_bytes_per_param(training_stack(None, shape, "muon"), shape)
    assert muon == pytest.approx(14.0 + 4.0 * tables, rel=1e-12) and muon > 14.0


def test_a_muon_checkpoint_keeps_adamws_moments_on_the_tables(capsys: pytest.CaptureFixture[str]) -> None:
    """`train --optimizer muon --tokens`: 10 B a matrix parameter, 14 B on the embedding and LM head (Llama 3 8B:
    84.50 GB, 80.30 before); the note says the mean."""
    shape = load_model("llama3-8b")
    params, tables = shape.total_params(), adamw_params(shape)
    assert tables == 2 * 128256 * 4096
    capsys.readouterr()
    assert cli_main(["train", "llama3-8b", "--system", "h100-sxm", "--gpus", "64", "--tp", "2", "--seq-len", "4096",
                     "--global-batch", "256", "--optimizer", "muon", "--tokens", "1T", "--json"]) == 0
    run = json.loads(capsys.readouterr().out)
    assert run["checkpoint_bytes"] == pytest.approx(10.0 * (params - tables) + 14.0 * tables, rel=1e-12)
    assert run["checkpoint_bytes"] == pytest.approx(params * checkpoint_bytes_per_param("muon", shape), rel=1e-12)
    assert any("10.52 B a parameter" in note for note in run["notes"])


def test_reliability_sizes_kimi_k2_by_its_groups(capsys: pytest.CaptureFixture[str]) -> None:
    """`reliability --model kimi-k2 --optimizer muon`: its 2.35 B table parameters (0.23 %) at 14 B: 10.009 B a
    parameter, 10.273 TB (10.264 before); the name and the loaded model give one figure."""
    shape = load_model("kimi-k2")
    per = checkpoint_bytes_per_param("muon", shape)
    assert per == checkpoint_bytes_per_param("muon", "kimi-k2") == bytes_per_param_of(shape, 10.0, 14.0)
    assert per == pytest.approx(10.00915, abs=1e-5)
    capsys.readouterr()
    assert cli_main(["reliability", "--system", "b200", "--gpus", "4096", "--model", "kimi-k2", "--optimizer", "muon",
                     "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["checkpoint_bytes"] == pytest.approx(per * shape.total_params(), rel=1e-12)


def test_adam_and_adapters_keep_one_rate() -> None:
    """Adam's groups share its 14 B (the catalog's); without a model (a LoRA run's adapters, all matrices) Muon's
    10 B; a model's name is read only where the rates differ."""
    assert checkpoint_bytes_per_param("adam", load_model("llama3-8b")) == 14.0
    assert checkpoint_bytes_per_param("adam", "no-such-model") == 14.0
    assert checkpoint_bytes_per_param("muon") == 10.0
