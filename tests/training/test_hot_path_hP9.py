"""Work a search and a single estimate no longer repeat (hP9, session 37), each with the same bits as before.

* `step_traffic.tied_embedding_sync` on a search's rows: the tied-embedding all-reduce priced once per distinct
  (size, stride) row (`distinct_collectives.distinct_collective_time`), not once per row; every row the bits of the
  formula on all of them.
* `LayerOps.elementwise_kernels` of one plan's plain masks: each pass's kernels or 0.0 summed in order without a
  `pick` call per pass; the value `pick` gave.
* A single estimate's layer terms and step components: Python floats, the values the array path gives its row.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.model_config import TransformerShape
from infraplan.cluster import Cluster
from infraplan.network.collectives import collective_time
from infraplan.ops import layer_records
from infraplan.ops.layer_records import Elementwise
from infraplan.scalar_path import pick
from infraplan.training import distinct_collectives
from infraplan.training.estimate import evaluate_plans
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans
from infraplan.training.step_traffic import tied_embedding_sync


def _gpt3_rows() -> tuple[TransformerShape, PlanArrays]:
    shape = load_model("gpt3-175b")  # tied embeddings
    plans = enumerate_plans(shape, 1024, 2048, 1536, ["bf16"], 8)
    return shape, plans.take(np.flatnonzero(valid_mask(shape, plans)))


def test_tied_embedding_sync_prices_each_distinct_row_once(monkeypatch: pytest.MonkeyPatch) -> None:
    shape, rows = _gpt3_rows()
    fabric = Cluster.resolve("dgx-h100-superpod").for_gpus(1024).fabric
    sizes: list[int] = []
    real = collective_time  # (what `distinct_collectives.distinct_collective_time` calls)

    def counted(fab, kind, size, group, stride):  # type: ignore[no-untyped-def]
        sizes.append(int(np.size(size)))
        return real(fab, kind, size, group, stride)

    monkeypatch.setattr(distinct_collectives, "collective_time", counted)
    got = tied_embedding_sync(shape, fabric, rows, 4.0, False)
    size = shape.vocab_size / rows.tp.astype(np.float64) * shape.hidden_size * 4.0
    stride = rows.pp.astype(np.float64) * rows.pp_stride / 2.0
    distinct = len(set(zip(size.tolist(), stride.tolist(), strict=True)))
    assert len(rows) >= 256 and distinct < len(rows) // 4  # a search's rows repeat a few shapes
    assert sizes and sum(sizes) <= distinct  # priced per distinct row (before: every row, outside this module)
    want = np.where(rows.pp > 1, collective_time(fabric, "all_reduce", size, 2.0, stride), 0.0)
    assert got.tobytes() == np.asarray(want, dtype=np.float64).tobytes()


def test_plain_elementwise_kernels_without_pick(monkeypatch: pytest.MonkeyPatch) -> None:
    passes = tuple(Elementwise("norm", 1e6 * i, kernels=float(i), mask=i % 3 != 0) for i in range(1, 8))
    want = sum((pick(e.mask, e.kernels, 0.0) for e in passes), 0.0)

    def refused(*args: object) -> object:
        raise AssertionError("pick called on a plain mask")

    monkeypatch.setattr(layer_records, "pick", refused)
    got = layer_records.LayerOps.elementwise_kernels(None, passes, True)  # type: ignore[arg-type]
    assert type(got) is float and got == want == 1.0 + 2.0 + 4.0 + 5.0 + 7.0


def test_one_plan_components_are_floats_of_the_grid_row() -> None:
    shape, rows = _gpt3_rows()
    cluster = Cluster.resolve("dgx-h100-superpod")
    sample = rows.take(np.arange(0, len(rows), max(len(rows) // 12, 1)))
    grid = evaluate_plans(shape, cluster, sample)
    for i in range(len(sample)):
        one = evaluate_plans(shape, cluster, sample.take([i]))
        for key in ("step_time_s", "compute", "pp_comm", "dp_comm_exposed", "other"):
            assert one[key].tobytes() == grid[key][i:i + 1].tobytes(), (i, key)
