"""gigawatt-2027 offers its MTIA 400 pool to the LLM services. Until session 69 `plan` sized none there (hY54: no
shipped serving stack ran on Meta parts) and the header said so (hU55). hM69 ships pytorch-mtia, an ASSUMPTION
profile and the default on Meta parts, so the pool is sized; the header says on what and that the plan stays
all-GB300, so a reader of "GB300 NVL72 vs MTIA 400 ... LLM inference" learns before the run what the MTIA side
rests on."""

from __future__ import annotations

from pathlib import Path

import yaml

from infraplan.catalog import load_accelerator
from infraplan.catalog.stacks import load_stack
from infraplan.serving.stack_placement import default_serving_stack

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "gigawatt-2027.yaml"


def test_the_header_says_what_the_mtia_400_pool_is_priced_on() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    pool = next(p for p in yaml.safe_load(text)["pools"] if p["name"] == "mtia-400")
    assert pool["serves"] == ["llm"] and "stack" not in pool  # the vendor's default prices it
    name, why = default_serving_stack(load_accelerator("mtia-400"))
    profile = load_stack(name).serving
    assert name == "pytorch-mtia" and why is not None and profile is not None and profile.assumption
    header = " ".join(line.lstrip("# ") for line in text.splitlines() if line.startswith("#"))
    assert "ASSUMPTION profile pytorch-mtia" in header and "the default on Meta parts" in header
    assert "the plan stays all-GB300" in header and "no shipped serving stack runs on Meta parts" not in header
