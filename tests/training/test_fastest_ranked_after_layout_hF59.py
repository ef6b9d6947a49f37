"""The search names the layout of the fastest plan its published-MFU ceiling ranked after the best (hF59).

Llama 3 405B on 16,384 H100 in bf16 answers TP8 CP8 PP8 x V2 (CP 8 at 8K tokens, which no 405B recipe runs) and
said only "ranked 194 faster plans after the best, the fastest 4.87 s at MFU 55.8 %": which plan the model
prefers, and so why the answer's layout looks unlike practice, took a second run with --no-mfu-guard. The ceiling
now carries that plan's layout (`fastest_ranked_after_config`), the CLI line and the web page print it."""

from __future__ import annotations

from infraplan.cli.commands._search_table import ceiling_line, plan_label
from infraplan.training.search import search_plans

SMALL = ("llama3-8b", "dgx-h100-superpod", 64, 8192, 512)  # fp8: the guard holds the best below faster plans


def test_the_fastest_ranked_after_is_the_unguarded_best_by_layout() -> None:
    """The same plan found two ways: the guarded search's fastest ranked-after plan is the unguarded best."""
    guarded = search_plans(*SMALL, dtype="fp8", top=1, memory_margin=0.0)
    (ceiling,) = guarded.mfu_ceilings
    assert ceiling.ranked_after_count > 0 and ceiling.fastest_ranked_after_config is not None
    free = search_plans(*SMALL, dtype="fp8", top=1, memory_margin=0.0, mfu_guard=False)
    assert free.best is not None and guarded.best is not None
    assert ceiling.fastest_ranked_after_config == free.best.config
    assert ceiling.fastest_ranked_after_config != guarded.best.config
    line = ceiling_line(ceiling)
    assert line.endswith(f"({plan_label(free.best.config)})"), line
    (off,) = free.mfu_ceilings  # not ranking: nothing ranked after, no layout
    assert off.fastest_ranked_after_config is None and ceiling_line(off).endswith("; flags only (not ranking)")


def test_a_stack_that_offloads_names_the_offloaded_layers_as_the_rows_do(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Under a stack offloading activations (`cpu_offload_layers`) the search's rows carry the layers each plan
    offloads; the displaced plan's layout carries them too, so it still equals the unguarded best's."""
    stack = tmp_path / "offload.yaml"
    stack.write_text("display_name: nemo-26.04 offloading 4 layers\nextends: nemo-26.04\nsource: a test stack\n"
                     "cpu_offload_layers: 4\n")
    guarded = search_plans(*SMALL, dtype="fp8", top=1, memory_margin=0.0, stack=str(stack))
    (ceiling,) = guarded.mfu_ceilings
    free = search_plans(*SMALL, dtype="fp8", top=1, memory_margin=0.0, stack=str(stack), mfu_guard=False)
    assert free.best is not None and free.best.config.offload_layers == 4
    assert ceiling.fastest_ranked_after_config == free.best.config
