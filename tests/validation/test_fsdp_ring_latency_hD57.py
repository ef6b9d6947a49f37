"""hD (session 57): modalities' FULL_SHARD rows (hE56's table) bound the per-layer all-gather a large ring costs
(validation/notes/out_of_sample_s57/fsdp_ring_latency.py; notes: network_flow_tried.md, "hD (session 57)"). The
tests pin the finding: the model's sized ring at 1,024 H100 is within the published bound's 1.1x, and NCCL's own
tuning-model latency (constants read from its 2.20.5 binary) is far under it, so it is no replacement. They fail on
the tree before the change (the script does not exist there) and if the sized ring is priced at NCCL's latencies."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

S57 = Path(__file__).resolve().parents[2] / "validation" / "notes" / "out_of_sample_s57"


@pytest.fixture(scope="module")
def rows() -> dict[int, dict]:
    spec = importlib.util.spec_from_file_location("fsdp_ring_latency_hD57", S57 / "fsdp_ring_latency.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {r["line"]: r for r in module.ring_rows()}


def test_the_sized_ring_at_1024_h100_is_within_the_published_bound(rows: dict[int, dict]) -> None:
    # README:373: 96 collectives a step on one stream, so t <= (step - optimizer) / 96 = 19.3 ms; the model 20.7 ms
    # before hN77 (1.07x the bound), 13.2 ms since its SimAI ring table is held from the largest row (0.68x: under it)
    r = rows[373]
    assert r["gpus"] == 1024 and 0.6 < r["sized"] / r["bound"] <= 1.0


def test_nccls_tuning_latency_is_far_under_the_published_rings(rows: dict[int, dict]) -> None:
    # NCCL's ring latency sum (6.1 us a step at 4 a node) prices 7.9 / 4.8 ms where the steps allow 19.3 / 7.8
    for line in (372, 373):
        assert rows[line]["nccl"] < 0.65 * rows[line]["bound"] < rows[line]["sized"], line


def test_the_512_row_the_sized_ring_overpriced_is_under_its_bound(rows: dict[int, dict]) -> None:
    # README:372: 7.8 ms allowed, 10.8 priced before hN77 (1.39x: the left-open finding, not a fitted knob); 7.2 ms
    # since hN77 held the SimAI ring table from its largest row (0.92x: both published rings now within their bounds)
    r = rows[372]
    assert 0.8 < r["sized"] / r["bound"] <= 1.0
