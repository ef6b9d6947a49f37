"""hM77 mutation wave on hL76's warm-up notes (`dsa_warmup.full_step_notes_left`, `search_rows.DsaWarmup.kept_notes`):
`search --dsa-stage warmup` and `train --dsa-stage warmup` leave out the full step's sparse-stage line and Muon's
line of the whole decoder (the warm-up steps the indexer alone). hL76's test checks that search says every line
train says, so a line both said that neither should went unseen."""

from __future__ import annotations

import contextlib
import io
import json
import shlex

from infraplan.cli.main import main
from infraplan.training.search import search_plans

DROPPED = ("DeepSeek Sparse Attention priced in its sparse", "optimizer muon (stack ")


def _notes(command: str) -> list[str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*shlex.split(command)[1:], "--json"]) in (0, None)
    return json.loads(out.getvalue())["notes"]


def test_the_warm_up_says_neither_full_step_line() -> None:
    """deepseek-v3.2 fp8 with Muon on 24 MI300X at 9,000 tokens (hL76's warmup-muon case): the full step's `train`
    says both lines; the warm-up's `search` and `train` of its best plan say neither, and the warm-up's own."""
    found = search_plans("deepseek-v3.2", "mi300x-cluster", 24, seq_len=9000, global_batch=192, top=1, dtype="fp8",
                         optimizer="muon", dsa_stage="warmup")
    assert found.best is not None
    warm = _notes(found.best.train_command)
    full = _notes(found.best.train_command.replace(" --dsa-stage warmup", ""))
    assert all(any(n.startswith(p) for n in full) for p in DROPPED)
    for said in (found.notes, warm):
        assert not any(n.startswith(DROPPED) for n in said), said
        assert any(n.startswith("DeepSeek Sparse Attention's dense warm-up stage priced") for n in said)
