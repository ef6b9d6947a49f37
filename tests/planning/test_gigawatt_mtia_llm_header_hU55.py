"""gigawatt-2027 offers its MTIA 400 pool to the LLM services. Until session 69 `plan` sized none there (hY54: no
shipped serving stack ran on Meta parts) and the header said so (hU55). hM69 ships pytorch-mtia, an ASSUMPTION
profile and the default on Meta parts, so the pool is sized; the header says on what, so a reader of "GB300 NVL72
vs MTIA 400 ... LLM inference" learns before the run what the MTIA side rests on. Until session 70 the services
asked bf16 / fp8 only, so MTIA 400 (no fp8) was sized at bf16 and the plan stayed all-GB300; they ask the 8-bit bar
in each part's format since (hM70)."""

from __future__ import annotations

from pathlib import Path

import yaml

from infraplan.catalog import load_accelerator
from infraplan.catalog.stacks import load_stack
from infraplan.planning.llm_precision import runnable_dtypes
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
    assert "no shipped serving stack runs on Meta parts" not in header
    assert "MTIA 400 takes chat and code" in header and "mxfp8 asked" in header


def test_each_pool_runs_an_8_bit_format_the_llm_services_ask() -> None:
    """A planner comparing GB300 and MTIA 400 expects each part at its best format the service accepts (hM70): every
    LLM service's `dtypes` hold an 8-bit format each pool's part and stack run (GB300 fp8, MTIA 400 mxfp8: it has no
    fp8), so neither pool is sized at bf16 for want of an asked format. Before, [bf16, fp8] left MTIA 400 bf16 only."""
    spec = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    llm = [s for s in spec["services"] if s["kind"] == "llm"]
    assert len(llm) == 2
    for svc in llm:
        ran = {p["name"]: runnable_dtypes(svc.get("dtypes", ["bf16", "fp8"]), p.get("system") or p["device"],
                                          p.get("stack"))[0] for p in spec["pools"]}
        assert "fp8" in ran["gb300"] and "mxfp8" in ran["mtia-400"] and "fp8" not in ran["mtia-400"], (svc, ran)
