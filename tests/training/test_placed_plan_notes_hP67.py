"""hP67: `plan_notes.placed_plan_notes` keeps `resolve_training`'s notes but the sequence's (the job's placement and
crossing, the stack's plan notes, the part's figures, CollNet) by cluster, stack, model and every plan field but the
sequence length. A plan differing in any other input is never handed another plan's notes; a new sequence length
reads the kept ones; `clear_one_plan_memo` forgets them."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.figures import figures_notes
from infraplan.cluster import Cluster
from infraplan.network.placement import placement_notes
from infraplan.network.tier_bandwidth import job_crossing_notes
from infraplan.training import plan_notes
from infraplan.training.collnet import stack_collnet_notes
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.optimizers import training_stack
from infraplan.training.plan_notes import forget_placed_plan_notes, placed_plan_notes
from infraplan.training.plan_resolution import resolve_plan
from infraplan.training.stack_limits import default_stack_notes

MIXTRAL = dict(model="mixtral-8x7b", system="dgx-h100-superpod", gpus=64, tp=2, seq_len=4096)

# (first plan, second plan): the second differs from the first in one input the kept notes read, and its notes differ
PAIRS = [
    ({**MIXTRAL, "ep": 1}, {**MIXTRAL, "ep": 8}),  # the EP span note
    ({**MIXTRAL, "ep": 8}, {**MIXTRAL, "ep": 8, "tp": 1}),  # the EP peers' stride: another span
    ({**MIXTRAL, "ep": 8}, {**MIXTRAL, "ep": 8, "sharp": True}),  # SHARP asked: its line
]


def _notes(kw: dict[str, object]) -> list[str]:
    return estimate_training(**kw).notes  # type: ignore[arg-type]


@pytest.mark.parametrize("first,second", PAIRS)
def test_a_changed_input_is_not_served_the_kept_notes(first: dict[str, object], second: dict[str, object]) -> None:
    clear_one_plan_memo()
    _notes(first)  # kept
    warm = _notes(second)
    forget_placed_plan_notes()
    clear_one_plan_memo()
    cold = _notes(second)
    assert warm == cold
    assert warm != _notes(first)


def test_every_field_but_the_sequence_is_in_the_key() -> None:
    """Kept notes are read again at a new sequence length (the same tuple), a new global batch is its own entry."""
    clear_one_plan_memo()
    calls: list[object] = []
    real = plan_notes.stack_plan_notes

    def counted(*args: object) -> list[str]:
        calls.append(args)
        return real(*args)  # type: ignore[arg-type]

    plan_notes.stack_plan_notes = counted  # type: ignore[assignment]
    try:
        first = _notes({**MIXTRAL, "ep": 8})
        again = _notes({**MIXTRAL, "ep": 8, "seq_len": 2048})
        assert len(calls) == 1 and again[-len(first) + 1:] == first[-len(first) + 1:]
        _notes({**MIXTRAL, "ep": 8, "global_batch": 1024})
        assert len(calls) == 2
        clear_one_plan_memo()  # forgets them with the pricings
        _notes({**MIXTRAL, "ep": 8})
        assert len(calls) == 3
        clear_one_plan_memo(pricings=False)  # a never-seen plan's state (the benchmark's): kept
        _notes({**MIXTRAL, "ep": 8, "seq_len": 1024})
        assert len(calls) == 3
    finally:
        plan_notes.stack_plan_notes = real


def test_the_kept_notes_are_the_composed_ones() -> None:
    """The memo's answer is the notes' functions composed in `resolve_training`'s order, sharp or not, stack asked or
    not (the default stack's line on an AMD part)."""
    shape = load_model("llama3-8b")
    for system in ("dgx-h100-superpod", "mi300x-cluster"):
        cluster = Cluster.resolve(system).for_gpus(16).placed(16)
        profile = training_stack(None, shape, None)
        plan = resolve_plan(shape, cluster, 16, 2, 1, None, 1, 1, 1, 2048, 64, 1, "none", 1, "bf16")
        for asked in (None, profile.name):
            forget_placed_plan_notes()
            got = placed_plan_notes(shape, profile, cluster, plan, 1, "bf16", 16, asked, 1, False)
            acc = cluster.accelerator
            want = (*placement_notes(cluster.system.node, 16), *job_crossing_notes(cluster.system, 16),
                    *plan_notes.stack_plan_notes(shape, profile, cluster, plan, 1, "bf16"),
                    *default_stack_notes(asked, profile, acc.name, acc.vendor),
                    *figures_notes(acc, "training", collectives=True),
                    *stack_collnet_notes(profile, cluster, 1))
            assert got == want
            said = any(note.startswith("no stack named") for note in got)
            assert said == (asked is None and system == "mi300x-cluster")  # (the line it must not keep for another)
            assert placed_plan_notes(shape, profile, cluster, plan, 1, "bf16", 16, asked, 1, False) is got
