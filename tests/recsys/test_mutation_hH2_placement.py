"""Mutation spot-check (hH2, session 33): the hottest embedding rows get the fastest memory."""

from __future__ import annotations

from infraplan.catalog import load_accelerator
from infraplan.catalog.inference_loader import load_recsys_profile
from infraplan.catalog.recsys_schemas import RecsysModel
from infraplan.recsys.embedding import place, resolve_tiers


def test_the_denser_table_is_placed_in_hbm_before_a_larger_colder_one() -> None:
    """Gather time is lookups x row bytes / tier bandwidth, so with rows of one size the greedy fill that
    minimises it puts the most lookups per row (pooling / rows) in the fastest tier first. H200: 0.9 x 141 GB of
    HBM3e, then 128 GB of host DRAM (catalog profile). A cold group listed first (1.5e9 rows, one lookup a sample,
    204 GB in int8 + 8 B a row) and a hot one (1e8 rows, 20 lookups, 13.6 GB): the hot group sits wholly in HBM,
    the cold one fills what is left and spills to the host."""
    rows = [{"count": 1, "rows": 1.5e9, "dim": 128, "pooling": 1.0},
            {"count": 1, "rows": 1e8, "dim": 128, "pooling": 20.0}]
    model = RecsysModel.model_validate({
        "name": "hot-cold", "display_name": "hot and cold tables", "source": "test", "dense_features": 64,
        "tables": rows, "embedding_dtype": "int8", "row_overhead_bytes": 8, "bottom_mlp": [256, 128],
        "interaction": {"kind": "dot"}, "top_mlp": [512, 1], "dtype": "fp16", "default_batch": 256})
    acc = load_accelerator("h200")
    tiers = resolve_tiers(acc, load_recsys_profile("h200"))
    assert [t.name for t in tiers] == ["device", "host"]
    placement = place(model, acc, tiers)
    assert placement.table_fraction[1, 0] == 1.0  # hot: all in HBM
    assert 0.0 < placement.table_fraction[0, 0] < 1.0 and placement.table_fraction[0, 1] > 0.0  # cold: spills
