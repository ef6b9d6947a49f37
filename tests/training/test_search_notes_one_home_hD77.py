"""hD (session 77): each of a search's note lines has one source, so its notes are not de-duplicated.

`search_notes` said the MoE routing, EP span and MTP lines (`moe_notes`) and the unpublished-recipe line of the best
plan, and so did `plan_notes.train_plan_notes` (hL76), so `search_plans` passed its notes through `dict.fromkeys`.
Now `train_plan_notes` owns what `train` says of the plan and `search_notes` says only the recipe, the placement and
the hybrid-sharding line. On the base `test_the_two_sources_share_no_line` failed on the MoE cases (the recorded
`search_notes` and `train_plan_notes` of mixtral-8x7b and qwen3-30b-a3b both held the routing line).
"""

from __future__ import annotations

import random
from typing import Any

import pytest

import infraplan.training.search as search
from infraplan.training.search import search_plans

MODELS = ["llama3-8b", "mixtral-8x7b", "qwen3-30b-a3b", "gpt3-175b", "deepseek-v3", "qwen3-32b"]
SYSTEMS = ["dgx-h100-superpod", "gb200-nvl72-superpod", "mi300x-cluster", "hgx-h200", "dgx-b200"]


def _recording(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[list[str]]]:
    said: dict[str, list[list[str]]] = {"search_notes": [], "train_plan_notes": []}
    for name in said:
        real = getattr(search, name)

        def recorded(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> list[str]:
            out = _real(*args, **kw)
            said[_name].append(list(out))
            return out

        monkeypatch.setattr(search, name, recorded)
    return said


def test_the_two_sources_share_no_line(monkeypatch: pytest.MonkeyPatch) -> None:
    said = _recording(monkeypatch)
    rng = random.Random(77)
    checked = moe = 0
    while checked < 16:
        model, system, gpus = rng.choice(MODELS), rng.choice(SYSTEMS), rng.choice([8, 16, 24, 64, 128])
        kw: dict[str, Any] = {"dtype": rng.choice(["bf16", "fp8", "fp4", "auto"])}
        kw |= {"optimizer": "muon"} if rng.random() < 0.2 else {}
        kw |= {"cross_node_tp": True} if rng.random() < 0.2 else {}
        for lines in said.values():
            lines.clear()
        try:
            found = search_plans(model, system, gpus, seq_len=rng.choice([2048, 4096, 9000]),
                                 global_batch=gpus * rng.choice([1, 4]), top=1, **kw)
        except ValueError:
            continue  # (a precision the part or model refuses)
        if found.best is None:
            continue
        assert len(found.notes) == len(set(found.notes)), (model, system, gpus, kw)  # each line once, as said
        last_search, last_train = said["search_notes"][-1], said["train_plan_notes"][-1]
        assert not set(last_search) & set(last_train), (model, system, gpus, kw)
        assert set(last_search) | set(last_train) <= set(found.notes)
        checked += 1
        moe += any(line.startswith("MoE routing") for line in last_train)
    assert moe >= 3  # the cases the base said twice
