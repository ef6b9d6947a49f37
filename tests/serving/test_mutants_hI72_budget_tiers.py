"""hI72 mutation wave on hJ71's `ServingEngine.budget_on`: a stack file's `token_budget_by_memory_gib` tiers are
(GiB at least, tokens) pairs however the file orders them; the engine takes the largest tier the GPU's memory reaches
(SGLang 0.5.6.post2 srt/server_args.py:752-833: 8192 for an 80 GiB H100, 16384 from 160 GiB)."""

from __future__ import annotations

from pathlib import Path

from infraplan.catalog import stacks as catalog_stacks
from infraplan.serving.engines import load_engine

GIB = 2.0**30
SHIPPED = "token_budget_by_memory_gib: [[0, 2048], [35, 4096], [60, 8192], [160, 16384]]"


def test_tiers_written_out_of_order_read_as_the_shipped_ones(tmp_path: Path) -> None:
    text = (Path(catalog_stacks.__file__).parent / "stacks" / "sglang-0.x.yaml").read_text()
    assert SHIPPED in text
    mine = tmp_path / "sglang-shuffled.yaml"
    mine.write_text(text.replace(SHIPPED, "token_budget_by_memory_gib: [[160, 16384], [0, 2048], [60, 8192], "
                                          "[35, 4096]]"))
    engine = load_engine(str(mine))
    assert [engine.budget_on(gib * GIB) for gib in (16, 40, 80, 141, 180)] == [2048, 4096, 8192, 8192, 16384]
    assert engine.token_budget_by_memory == load_engine("sglang-0.x").token_budget_by_memory
