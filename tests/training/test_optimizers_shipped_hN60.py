"""Which stacks step with Muon (`Stack.optimizers`, `catalog.stack_framework_rules.optimizer_refusal`, hN60): only a
framework that ships it. Megatron-Core 0.8.0-0.15.0 have no optimizer/muon.py, so `--optimizer muon` on the older
Megatron / NeMo presets and a stack file's `optimizer: muon` off a Megatron stack are one line and exit code 2; and
the README's Kimi K2 Muon / Adam step times are the ones `train` prints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.user_docs import doc_path

from infraplan.catalog.stacks import load_stack
from infraplan.cli import main
from infraplan.training.estimate import estimate_training

README = doc_path("usage")  # the Usage block, docs/usage.md (hM64)
PLAN = ["--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096", "--global-batch", "64"]


@pytest.mark.parametrize("stack", ["megatron-core-0.8", "nemo-24.12", "megatron-lm-2022", "deepseek-v3"])
def test_muon_refused_where_the_framework_ships_none(capsys: pytest.CaptureFixture[str], stack: str) -> None:
    """`--optimizer muon` on a Megatron-class preset whose framework predates Muon: train and search refuse it."""
    for command in (["train", "llama3-8b", "--tp", "8"], ["search", "llama3-8b"]):
        assert main([*command, *PLAN, "--stack", stack, "--optimizer", "muon"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and f"stack {stack} ships no muon optimizer" in err


def test_only_nemo_26_04_ships_muon() -> None:
    """Every Megatron-class training preset states its optimizers with a source; nemo-26.04 alone lists Muon."""
    with_muon = []
    for name in ("megatron-core-0.8", "megatron-lm-2021", "megatron-lm-2022", "meta-llama3", "nemo-23.05",
                 "nemo-24.12", "nemo-26.04", "deepseek-v3"):
        stack = load_stack(name)
        assert stack.optimizers is not None and "adam" in stack.optimizers and stack.optimizers_source
        if "muon" in stack.optimizers:
            with_muon.append(name)
    assert with_muon == ["nemo-26.04"]


@pytest.mark.parametrize(("base", "code"), [("torchtitan", 2), ("megatron-core-0.8", 2), ("nemo-26.04", 0)])
def test_stack_file_optimizer_is_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str], base: str,
                                         code: int) -> None:
    """A stack file's own `optimizer: muon` meets the same rule as --optimizer (it bypassed it before)."""
    path = tmp_path / "mine.yaml"
    path.write_text(f"extends: {base}\nname: mine-{base}\noptimizer: muon\n")
    assert main(["train", "llama3-8b", "--tp", "8", *PLAN, "--stack", str(path), "--json"]) == code
    out = capsys.readouterr()
    if code:
        assert len(out.err.strip().splitlines()) == 1 and "ships no" in out.err
    else:
        assert '"optimizer": "muon"' in out.out


def test_stack_file_recipe_optimizer_is_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file naming its optimizers must ship its model recipes' too: nemo-26.04's Kimi K2 recipe steps with Muon."""
    path = tmp_path / "adam-only.yaml"
    path.write_text("extends: nemo-26.04\nname: adam-only\noptimizers: [adam]\noptimizers_source: mine\n")
    assert main(["train", "llama3-8b", "--tp", "8", *PLAN, "--stack", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "stack adam-only ships no muon optimizer" in err


def test_readme_kimi_k2_step_times_are_trains() -> None:
    """The README's 'of a X s step (Y)' for Kimi K2 on its recipe (Muon) and with --optimizer adam."""
    text = re.sub(r"\n#\s*", " ", README.read_text())  # (the README's comment lines joined)
    found = re.search(r"optimizer step (\d+) ms \(Adam (\d+) ms\) of a ([\d.]+) s step \(([\d.]+)\)", text)
    assert found is not None
    kimi = dict(model="kimi-k2", system="dgx-h100-superpod", gpus=1024, tp=2, pp=16, ep=32, seq_len=4096,
                global_batch=4096, recompute="selective")
    muon = estimate_training(**kimi)  # type: ignore[arg-type]
    adam = estimate_training(**kimi, optimizer="adam")  # type: ignore[arg-type]
    assert round(muon.step_time_s, 2) == float(found[3]) and round(adam.step_time_s, 2) == float(found[4])
    assert round(dict(muon.breakdown_s)["optimizer"] * 1e3) == int(found[1])
    assert round(dict(adam.breakdown_s)["optimizer"] * 1e3) == int(found[2])


def test_muon_run_checkpoints_one_momentum() -> None:
    """`train --tokens` with Muon: the checkpoint holds one fp32 momentum a matrix parameter (10 B with the weights
    and master), not Adam's two (the catalog's 14 B), the embedding and LM head AdamW's 14 B (hD62), and says so; the
    write time follows the size."""
    from infraplan.catalog.loader import load_model
    from infraplan.planning.training_run import training_run_totals

    plan = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=64, tp=8, seq_len=4096, global_batch=64, zero=1)
    adam = training_run_totals(estimate_training(**plan), "dgx-h100-superpod", 1e11)  # type: ignore[arg-type]
    muon = training_run_totals(estimate_training(**plan, optimizer="muon"),  # type: ignore[arg-type]
                               "dgx-h100-superpod", 1e11)
    shape = load_model("llama3-8b")
    tables = shape.embedding_params() / shape.total_params()  # (13.1 %: AdamW's)
    ratio = (10.0 * (1.0 - tables) + 14.0 * tables) / 14.0
    assert muon.checkpoint_bytes == pytest.approx(adam.checkpoint_bytes * ratio)
    assert muon.checkpoint_write_s == pytest.approx(adam.checkpoint_write_s * ratio)
    assert any("one fp32 momentum" in note for note in muon.notes)
    assert not any("one fp32 momentum" in note for note in adam.notes)
