"""hM76 mutation wave on hR76's `search_plans(in_order=...)`: the answer handed back in another order says its lines
about the best plan of its first row, its plans' arrays taken in that order too (not the search's own first)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Sequence

import pytest

from infraplan.cli.main import main
from infraplan.training.search import search_plans


def test_the_ep_span_line_is_said_of_the_first_row_of_the_order() -> None:
    """deepseek-v3 fp8 on 512 GB200 NVL72 GPUs, 1,024 sequences: the search's #1 runs EP 64, its #2 EP 32 (both TP 1
    PP 1). In the order #2, #1, #3.. the answer's best is the EP 32 row and its EP line says EP 32, not 64."""
    said: list[Callable[[Sequence[int]], object]] = []
    result = search_plans("deepseek-v3", "gb200-nvl72-superpod", 512, 4096, 1024, "fp8", in_order=said)
    assert [row.config.ep for row in result.top[:2]] == [64, 32]
    assert len(said) == 1
    swapped = said[0]([1, 0, *range(2, len(result.top))])
    assert swapped.best == result.top[1] and swapped.top[1] == result.top[0]  # type: ignore[attr-defined]
    lines = [n for n in swapped.notes if n.startswith("EP ")]  # type: ignore[attr-defined]
    assert any(n.startswith("EP 32 (peers 1 rank apart)") for n in lines), lines
    assert not any(n.startswith("EP 64") for n in lines), lines
    assert any(n.startswith("EP 64 (peers 1 rank apart)") for n in result.notes)  # the search's own order


def test_dtype_autos_gap_is_said_of_the_first_row_of_the_order() -> None:
    """llama3-8b, dtype auto, 576 GB200 GPUs at 1,152 sequences of 8,192: nvfp4 wins; the other precision's best
    (mxfp8) is "X % slower" than the answer's best, X = 1 - its tokens a second over the best's = 1 - best step /
    its step (the same tokens a step): of the search's #5 where the order puts it first, not of its #1."""
    said: list[Callable[[Sequence[int]], object]] = []
    result = search_plans("llama3-8b", "gb200-nvl72-superpod", 576, 8192, 1152, "auto", in_order=said)
    fifth = result.top[4]
    assert result.dtype_choice is not None and fifth.step_time_s > result.top[0].step_time_s * 1.03
    moved = said[0]([4, 0, 1, 2, 3]).dtype_choice  # type: ignore[attr-defined]
    alternative = moved.alternative_step_time_s
    for choice, row in ((result.dtype_choice, result.top[0]), (moved, fifth)):
        gap = (1.0 - row.step_time_s / alternative) * 100.0
        assert f"{gap:.1f} % slower" in choice.summary, choice.summary


def test_the_cp_crossing_line_is_said_of_the_first_row_of_the_order() -> None:
    """llama3-8b at 32,768 tokens on 120 GB200 NVL72 GPUs (30 trays: Slurm segments of 15, a 60-GPU placement
    unit): the search's #1 (TP 4, CP 1) crosses no edge; a TP 2 CP 4 row's CP blocks of 8 ranks do not divide 60,
    gcd(60, 8) = 4 ranks on one side, 2 members (4 / stride 2): put first, the answer says its CP line, as `train`
    says it (`plan_notes.tp_crossing_notes(2, 60, 72, cp=4)`)."""
    said: list[Callable[[Sequence[int]], object]] = []
    result = search_plans("llama3-8b", "gb200-nvl72-superpod", 120, 32768, 120, "bf16", top=30, in_order=said)
    assert (result.top[0].config.tp, result.top[0].config.cp) == (4, 1)
    assert not any(n.startswith(("TP ", "CP ")) for n in result.notes)
    row = next(i for i, r in enumerate(result.top) if (r.config.tp, r.config.cp) == (2, 4))
    moved = said[0]([row, *(i for i in range(len(result.top)) if i != row)])
    lines = [n for n in moved.notes if n.startswith(("TP ", "CP "))]  # type: ignore[attr-defined]
    assert lines == [
        "CP 4 (2 ranks apart): its blocks of 8 ranks do not divide the 60-GPU placement unit, so some CP groups cross "
        "a scale-up domain edge with 2 of their ranks on one side; priced at that group, as 2 domains of 2 ranks, its "
        "collectives over the scale-out network (network.placement): a block dividing 60 keeps every group inside "
        "one domain"]


def test_a_slower_low_precision_line_is_said_of_the_first_row_as_train_says_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    """qwen3-235b-a22b fp8 on 256 H100 (4,096 x 512): the search's #1 gains from fp8, its #19 (TP 1 PP 8 EP 8 CP 2)
    does not (the casts and quantise kernels outweigh the GEMMs' saving). Put first, the answer says the "fp8 is
    slower than bf16 on this plan" line `train` says of that plan's own command, word for word."""
    said: list[Callable[[Sequence[int]], object]] = []
    result = search_plans("qwen3-235b-a22b", "dgx-h100-superpod", 256, 4096, 512, "fp8", top=20, in_order=said)
    assert not any(n.startswith("fp8 is slower") for n in result.notes)
    row = result.top[18]
    assert (row.config.tp, row.config.pp, row.config.ep, row.config.cp) == (1, 8, 8, 2)
    moved = said[0]([18, *(i for i in range(len(result.top)) if i != 18)])
    lines = [n for n in moved.notes if n.startswith("fp8 is slower")]  # type: ignore[attr-defined]
    capsys.readouterr()
    assert main([*shlex.split(row.train_command)[1:], "--json"]) == 0
    train = [n for n in json.loads(capsys.readouterr().out)["notes"] if n.startswith("fp8 is slower")]
    assert len(lines) == 1 and lines == train
