"""hL (session 76): `search` says of its best plan every note `train` says of that plan (its row's train_command).

On the lead's base five classes were missing from `search`'s notes (300 seeded cases, /tmp/hL/work/fuzz.py): the
context-extension line (`plan_notes.request_notes`: megatron-145.6b at --seq-len 2064, hW76), TP beyond a scale-up
domain under --cross-node-tp, Muon's lines (`optimizers.optimizer_notes`), DeepSeek Sparse Attention's sparse stage
(`attention_core.sparse_attention_notes`), a LoRA plan's slower-fp8 line (priced as a full step before) and the
warm-up's Muon stepper. Now `plan_notes.train_plan_notes` (what `estimate.resolve_training` says of a plan) is said
of the best plan, kept as the pricing kind's `train` keeps it (`search_rows.Pricing.kept_notes`).
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import shlex

import pytest

from infraplan.cli.main import main
from infraplan.training.search import search_plans


def _train_notes(command: str) -> list[str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*shlex.split(command)[1:], "--json"]) in (0, None)
    return json.loads(out.getvalue())["notes"]


def _missing(model: str, system: str, gpus: int, seq_len: int, batch: int, **kw: object) -> list[str]:
    found = search_plans(model, system, gpus, seq_len=seq_len, global_batch=batch, top=1, **kw)  # type: ignore[arg-type]
    assert found.best is not None
    return [n for n in _train_notes(found.best.train_command) if n not in found.notes]


CASES = [  # each missed one class on the base
    (("megatron-145.6b", "dgx-h100-superpod", 36, 2064, 144), {"dtype": "fp8"}, "--seq-len 2064 exceeds"),
    (("llama3-8b", "mi300x-cluster", 12, 1024, 96), {"optimizer": "muon"}, "optimizer muon (stack "),
    (("deepseek-v3.2", "hgx-h200", 256, 4096, 512), {"dtype": "fp8"}, "DeepSeek Sparse Attention priced in its"),
    (("qwen3-30b-a3b", "hgx-h200", 24, 2048, 24), {"dtype": "fp8", "lora_rank": 16}, "fp8 is slower than bf16"),
    (("deepseek-v3.2", "mi300x-cluster", 24, 9000, 192), {"dtype": "fp8", "optimizer": "muon", "dsa_stage": "warmup"},
     "DeepSeek Sparse Attention's dense warm-up"),
]


@pytest.mark.parametrize(("args", "kw", "line"), CASES, ids=["context", "muon", "dsa", "lora-fp8", "warmup-muon"])
def test_search_says_what_train_says_of_its_best(args: tuple, kw: dict, line: str) -> None:
    found = search_plans(*args[:3], seq_len=args[3], global_batch=args[4], top=1, **kw)
    assert found.best is not None
    said = _train_notes(found.best.train_command)
    assert any(n.startswith(line) for n in said)  # the class train says
    assert [n for n in said if n not in found.notes] == []
    assert len(found.notes) == len(set(found.notes))  # each once


def test_seeded_cases() -> None:
    rng = random.Random(76)
    models = ["llama3-8b", "megatron-18.4b", "gpt3-175b", "mixtral-8x7b", "opt-175b", "qwen3-32b"]
    systems = ["dgx-h100-superpod", "gb200-nvl72-superpod", "mi300x-cluster", "dgx-a100-superpod"]
    checked = 0
    while checked < 12:
        gpus = rng.choice([8, 16, 24, 48, 64])
        kw = {"optimizer": "muon"} if rng.random() < 0.3 else {}
        kw |= {"cross_node_tp": True} if rng.random() < 0.3 else {}
        try:
            missing = _missing(rng.choice(models), rng.choice(systems), gpus, rng.choice([2048, 4100, 9000]),
                               gpus * rng.choice([1, 4]), **kw)
        except (ValueError, AssertionError):
            continue  # (no plan fits)
        assert missing == []
        checked += 1
