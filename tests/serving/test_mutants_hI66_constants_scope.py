"""hI66 mutation wave: outside a `kept_cost_tables` scope the FCFS constants keep nothing of a run (mutant S19).

`fcfs_setup.fcfs_constants` keeps the last run's constants (with its cost and tables) for the next run only where
`cost_tables` keeps tables (`loop_stepping.tables_kept`): outside a scope each run builds tables of its own, so the
next run cannot read them again, and keeping them would hold the run's cost (and its ~1 MB of tables at 8,192 tokens,
`loop_stepping._TABLES_KEPT`'s note) alive after the caller dropped it. Checked by the cost's weak reference.
"""

from __future__ import annotations

import gc
import weakref

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.network.collectives import Fabric
from infraplan.serving.fcfs_setup import fcfs_constants
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.loop_stepping import kept_cost_tables, tables_kept

SYSTEM = load_system("dgx-h100-superpod")
ACC = load_accelerator(SYSTEM.accelerator)


def _cost():
    return build_iteration_cost(load_model("llama3-8b"), ACC, Fabric.from_system(SYSTEM, ACC),
                                Deployment(max_batch=16, token_budget=1024))


def test_tables_kept_only_inside_a_scope() -> None:
    assert tables_kept() is False
    with kept_cost_tables():
        assert tables_kept() is True
        with kept_cost_tables():
            assert tables_kept() is True
        assert tables_kept() is True
    assert tables_kept() is False


def test_a_run_outside_a_scope_does_not_keep_its_cost_alive() -> None:
    cost = _cost()
    ref = weakref.ref(cost)
    fcfs_constants(cost, 16, 1024)
    del cost
    gc.collect()
    assert ref() is None
