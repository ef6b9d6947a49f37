"""hU46 (session 42): three wording / output fixes (validation/notes/product_review_tried.md, section "hU46 (session
42)"); every test but the H100 control case fails on the tree before the fix (HEAD 0a59404).

1. The goodput note of `train --tokens`, `campus` and `plan` (`failure_rate_notes.goodput_basis_note`) said "not
   scaled by its 64 GPUs" on TPU, MTIA and Gaudi jobs: it now calls them by the part's word (`device_word`), as
   `reliability`'s notes do since hU45.
2. `train`'s note on the default NVIDIA training stack priced on another vendor's part said "no --stack", also where
   the asker is a plan's training service (a `stack` field): now "no stack named", serving's words.
3. `search --system nosuch` printed an empty stdout line before the one-line error (Rich's progress display was
   started before the system was resolved, and stopping it prints a line on a non-interactive console).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from tests.cli.conftest import CliRun, json_strings

from infraplan.facility.failure_rate_notes import goodput_basis_note
from infraplan.facility.reliability import job_reliability
from infraplan.training.estimate import estimate_training


def _planned_notes(out: str) -> list[str]:
    return [s for s in json_strings(json.loads(out)) if s.startswith("goodput counts planned interruptions")]


@pytest.mark.parametrize(("accelerator", "devices"), [("tpu-v5p", "64 TPUs"), ("mtia-400", "64 accelerators"),
                                                      ("gaudi2", "64 accelerators"), ("h100-sxm", "64 GPUs")])
def test_the_goodput_note_calls_the_jobs_devices_by_their_word(accelerator: str, devices: str) -> None:
    note = goodput_basis_note(job_reliability(accelerator, 64, 8e9), 64)
    assert note is not None and f"not scaled by its {devices};" in note


def test_train_tokens_on_an_mtia_rack_says_accelerators(cli: CliRun) -> None:
    code, out, err = cli(["train", "llama3-8b", "--system", "mtia-400-rack", "--gpus", "8", "--seq-len", "4096",
                          "--global-batch", "64", "--tp", "8", "--tokens", "1e10", "--json"])
    assert code == 0, err
    [note] = _planned_notes(out)
    assert "not scaled by its 8 accelerators" in note and "8 GPUs" not in note


def test_campus_on_mtia_says_accelerators(cli: CliRun) -> None:
    code, out, err = cli(["campus", "--power", "100MW", "--accelerator", "mtia-400", "--json"])
    assert code == 0, err
    [note] = _planned_notes(out)
    assert "not scaled by its 16,384 accelerators" in note


def test_a_plans_training_pool_of_tpus_says_tpus(cli: CliRun, tmp_path: Path) -> None:
    spec = {"name": "t", "phases": [{"name": "2026", "year": 2026}],
            "services": [{"name": "pretrain", "kind": "training", "model": "llama3-8b", "tokens": "1T", "gpus": 64}],
            "pools": [{"name": "tpu", "device": "tpu-v5p", "site": "ohio", "price_usd_per_device": 30000}],
            "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}]}
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(spec))
    code, out, err = cli(["plan", str(path), "--json"])
    assert code == 0, err
    notes = [s for s in json_strings(json.loads(out)) if "goodput counts planned interruptions" in s]
    assert notes and all("not scaled by its 64 TPUs" in n and "GPUs" not in n for n in notes)


def test_the_default_stack_note_says_no_stack_named() -> None:
    """Serving says "no stack named" (`stack_placement.default_serving_stack`); training now does too."""
    notes = estimate_training("llama3-8b", "mi300x", gpus=8, tp=8, seq_len=4096, global_batch=16).notes
    said = [n for n in notes if "is NVIDIA software" in n]
    assert len(said) == 1 and said[0].startswith("no stack named: the default ") and "a plan's `stack`" in said[0]
    assert not any("no --stack" in n for n in notes)


@pytest.mark.parametrize(("system", "gpus", "error"), [
    ("nosuch", "8", "unknown system or accelerator 'nosuch'"),
    ("dgx-h100-superpod", "8,100000", "--gpus 100,000: system dgx-h100-superpod has 16,384 accelerators"),
])
def test_a_refused_search_prints_only_its_error_line(cli: CliRun, system: str, gpus: str, error: str) -> None:
    """The second case is refused after its first count was searched (the progress display had run)."""
    code, out, err = cli(["search", "llama3-8b", "--system", system, "--gpus", gpus, "--seq-len", "4096",
                          "--global-batch", "64", "--top", "1"])
    assert code == 2 and out == ""
    assert err.startswith(f"infraplan: error: {error}") and err.count("\n") == 1


def test_a_search_answer_starts_with_its_table_not_an_empty_line(cli: CliRun) -> None:
    code, out, err = cli(["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len",
                          "4096", "--global-batch", "64", "--top", "1"])
    assert code == 0, err
    assert out.strip() and out.splitlines()[0].strip().startswith("top plans: llama3-8b on dgx-h100-superpod")
