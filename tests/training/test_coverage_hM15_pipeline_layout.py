"""Coverage wave hM15 (session 42): `training.pipeline_layout` branches no test reached.

Expectations counted by hand from Megatron-Core's layout rules as the module docstring cites them (0.16.1
`pipeline_parallel_layer_layout.py`: chunk i runs on rank i mod p; the loss closes the layout once; the stages
divide over PP)."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.errors import InputError
from infraplan.training.pipeline_layout import (
    check_layout,
    layout_virtual_stages,
    parse_layout,
    rank_loads,
    with_pipeline_layout,
)

STACK = load_stack("nemo-26.04")


@pytest.mark.parametrize("layout", ["Et|tt|t", "Et|tL|tL", "EL|tttt"])
def test_the_loss_must_close_the_layout_once(layout: str) -> None:
    """No loss, two losses, a loss before the decoder layers: each refused, naming the rule."""
    with pytest.raises(InputError, match="the loss must close the layout, once"):
        check_layout(layout, 4, 0)


def test_a_valid_layout_passes_with_its_chunks() -> None:
    assert check_layout("Et|tt|tL", 4, 0) == ((1, 1, 0, 0), (0, 2, 0, 0), (0, 1, 0, 1))


def test_rank_loads_sum_chunk_i_on_rank_i_mod_p() -> None:
    """Six chunks on PP3: rank 0 runs chunks 0 and 3 (E, then 3 t), rank 1 chunks 1 and 4 (1 t, 4 t), rank 2 chunks
    2 and 5 (2 t, then t + L); not consecutive chunks (rank 0 would hold E + 1 t)."""
    chunks = parse_layout("E|t|tt|ttt|tttt|tL")
    assert rank_loads(chunks, 3) == [(1, 3, 0, 0), (0, 5, 0, 0), (0, 3, 0, 1)]
    assert rank_loads(chunks, 6) == list(chunks)
    with pytest.raises(InputError, match="pipeline layout of 6 stages does not divide over PP4"):
        rank_loads(chunks, 4)


def test_virtual_stages_come_from_the_first_layout_dividing_over_pp() -> None:
    """Layouts of 6 then 8 stages: PP4 skips the first (6 / 4 is not whole) and runs the second as VP2; PP3 takes
    the first (VP2); PP5 neither."""
    stack = STACK.model_copy(update={"pipeline_layouts": ("Et|tt|tt|tt|tt|tL", "Et|t|t|t|t|t|t|tL")})
    assert layout_virtual_stages(stack, 4) == (2, "--vpp not given: the stack's pipeline layout of 8 stages runs as "
                                                  "PP4 x VP2")
    assert layout_virtual_stages(stack, 3)[0] == 2
    assert layout_virtual_stages(stack, 5) == (None, None)


def test_a_stack_without_layouts_keeps_the_split_terms() -> None:
    assert not STACK.pipeline_layouts
    times = {"compute_fwd": 1.0}
    assert with_pipeline_layout(load_model("llama3-8b"), STACK, times, 4, 1) is times
