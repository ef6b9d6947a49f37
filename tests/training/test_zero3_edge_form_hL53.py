"""`training.zero3_edges.zero3_edge_form` by hand on made-up figures (review hL, session 53): three hand mutants
survived hS53's end-to-end tests (the pipeline's edge taking FSDP2's root tables instead of the embedding, the
pipelined edge not spread over the micro-batches the step multiplies it by, and the backward window's gathers
dropped); each is killed here. Figures: 100 local parameters, 20 of them tables (10 the embedding), 8 layers;
gathers 1 s and reduce-scatters 2 s a micro-batch."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from infraplan.scalar_path import FLOAT_OPS
from infraplan.training import zero3_edges

TRAFFIC = {"params": 100.0, "table_params": 20.0, "embedding_params": 10.0, "gather_layers": 1.0,
           "scatter_layers": 2.0}
LT = {"stage_layers": 8.0, "other_layers": 0.0}


def _form(pp: int, root: bool, per_micro_batch: bool, windows: tuple[float, float], micro_batches: int = 4,
          bulk: float = 0.1, piped_per_micro_batch: bool | None = None) -> float:
    plan: Any = SimpleNamespace(pp=pp, micro_batches=micro_batches)
    piped = per_micro_batch if piped_per_micro_batch is None else piped_per_micro_batch
    stack: Any = SimpleNamespace(zero3_edge_tables="root" if root else "embedding",
                                 zero3_collectives_per_micro_batch=per_micro_batch,
                                 zero3_pipeline_collectives_per_micro_batch=piped,
                                 pipeline_grad_reduce_deferred=False)  # (hZ53's deferred tail: its own tests)
    return float(zero3_edges.zero3_edge_form(bulk, plan, TRAFFIC, LT, windows, stack, FLOAT_OPS))


def test_without_a_pipeline_each_phase_exposes_its_collectives_less_its_window_or_its_edge(monkeypatch) -> None:
    monkeypatch.setattr(zero3_edges, "ZERO3_EDGES", True)
    # FSDP2's root holds both tables: one edge unit 20 + 80 / 8 = 30 of 100 parameters
    # forward max(1 - 0.5, 0.3 x 1) = 0.5; backward max(2 + 1 - 1.5, 0.3 x 2) = 1.5 (its window holds the
    # reduce-scatters and the backward's re-gathers)
    assert _form(1, True, True, (0.5, 1.5)) == pytest.approx(2.0)
    # long windows: the edges alone, 0.3 x (1 + 2)
    assert _form(1, True, True, (10.0, 10.0)) == pytest.approx(0.9)
    # the embedding alone (no FSDP2 root): 10 + 10 = 20 of 100
    assert _form(1, False, True, (10.0, 10.0)) == pytest.approx(0.6)


def test_a_pipeline_prices_the_first_stages_embedding_and_layer_over_the_repeats(monkeypatch) -> None:
    monkeypatch.setattr(zero3_edges, "ZERO3_EDGES", True)
    # PP 2: 4 layers a stage; the first stage's edge is the embedding (10) and one layer (80 / 4) of 100, on an
    # FSDP2-root stack too: 0.3 x (1 + 2) = 0.9 a step, spread over the 4 micro-batches the step multiplies it by
    assert _form(2, True, True, (10.0, 10.0)) == pytest.approx(0.9 / 4)
    assert _form(2, True, False, (10.0, 10.0)) == pytest.approx(0.9)  # once a step: no repeats
    # per micro-batch without a pipeline only (torchtitan): a pipelined step pays them once (`step_assembly`)
    assert _form(2, True, True, (10.0, 10.0), piped_per_micro_batch=False) == pytest.approx(0.9)
    assert _form(2, True, True, (10.0, 10.0), bulk=0.5) == pytest.approx(0.5)  # the bulk form, where larger
    monkeypatch.setattr(zero3_edges, "ZERO3_EDGES", False)
    assert _form(2, True, True, (10.0, 10.0)) == 0.1 and _form(1, True, True, (0.5, 1.5)) == 0.1
