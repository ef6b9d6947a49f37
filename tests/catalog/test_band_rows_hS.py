"""hS (session 51): the bands read the stored residuals as `ResidualRow`s (no pydantic model built) and
`campaign_band` runs its recursion along rows: each gives what it gave before, to the bit."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from infraplan.catalog import error_bands as eb
from infraplan.catalog.error_band_rows import BAND_FOLDER, CASE_SETTINGS, DEFAULT_SETTINGS, ResidualRow
from infraplan.validation.bands import write_band_files

READS = [(None, None, None), ("serving", DEFAULT_SETTINGS, "trtllm"), ("serving", DEFAULT_SETTINGS, "vllm"),
         ("serving", CASE_SETTINGS, None), ("serving", None, None), ("training", None, None),
         ("training", DEFAULT_SETTINGS, None), ("network", None, None), ("facility", CASE_SETTINGS, None),
         ("recsys", None, None), ("video", None, None)]


@pytest.mark.parametrize("asked", READS, ids=str)
def test_a_plain_read_is_the_validated_reads_fields_in_its_order(asked: tuple[str | None, ...]) -> None:
    plain, validated = eb.load_residuals(*asked, True), eb.load_residuals(*asked)
    assert all(type(r) is ResidualRow for r in plain) and all(type(r) is eb.Residual for r in validated)
    assert [r._asdict() for r in plain] == [r.model_dump() for r in validated]
    assert [r.group for r in plain] == [r.group for r in validated]
    assert [type(r.residual) for r in plain] == [float] * len(plain)


def test_the_shipped_bands_are_those_of_the_validated_rows() -> None:
    full = eb.load_residuals()
    for kind, metric in [("serving", "throughput"), ("serving", "ttft"), ("training", "throughput"),
                         ("network", "busbw"), ("facility", "it_power"), ("recsys", "throughput")]:
        for accelerator in ("h100-sxm", "b200", "mi300x", "tpu-v5p"):
            for stack in (None, "nemo-26.04", "trtllm-0.x", "vllm-0.x", "sglang-0.x", "vllm"):
                assert eb.stored_band_and_basis(accelerator, stack, kind, metric) == eb.band_and_basis(
                    accelerator, stack, kind, metric, full), (accelerator, stack, kind, metric)


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(eb, "resources", SimpleNamespace(files=lambda package: tmp_path))
    eb.load_residuals.cache_clear()
    yield tmp_path
    eb.load_residuals.cache_clear()


def test_a_file_not_in_the_writers_form_is_read_validated(catalog: Path) -> None:
    rows = [eb.Residual(id=f"c{i}", family="hopper", stack="trtllm", kind="serving", residual=0.01 * i,
                        campaign=f"p{i % 3}", settings=DEFAULT_SETTINGS) for i in range(4)]
    write_band_files(catalog, rows)
    assert [type(r) for r in eb.load_residuals("serving", DEFAULT_SETTINGS, "trtllm", True)] == [ResidualRow] * 4
    path = catalog / BAND_FOLDER / "serving.default.trtllm.yaml"
    path.write_text(path.read_text().replace("  - [c1,", "  - [ c1,"))  # YAML's spacing: the same row
    eb.load_residuals.cache_clear()
    read = eb.load_residuals("serving", DEFAULT_SETTINGS, "trtllm", True)
    assert read == tuple(rows) and [type(r) for r in read] == [eb.Residual] * 4
    path.write_text(path.read_text().replace("  - [c2,", "  - [2026-01-01,"))  # a date to YAML: refused
    eb.load_residuals.cache_clear()
    with pytest.raises(ValueError):
        eb.load_residuals("serving", DEFAULT_SETTINGS, "trtllm", True)


def _campaign_band_before(values: Sequence[float], campaigns: Sequence[str]) -> tuple[float, float] | None:
    """`campaign_band` as it was before hS: count[j, c], the update one column block at a time."""
    groups: dict[str, list[float]] = {}
    for value, campaign in zip(values, campaigns, strict=True):
        groups.setdefault(campaign, []).append(float(value))
    k = len(groups)
    k_lo, k_hi = math.floor(eb.BAND_TAILS[0] * (k + 1)), math.ceil(eb.BAND_TAILS[1] * (k + 1))
    if k_lo < 1 or k_hi > k:
        return None
    grid = np.unique(np.asarray(values, dtype=float), return_counts=True)[0]
    count = np.zeros((grid.size, k + 1))
    count[:, 0] = 1.0
    for done, members in enumerate(groups.values(), start=2):
        below = np.searchsorted(np.sort(members), grid, side="right") / len(members)
        count[:, 1:done] = count[:, 1:done] * (1.0 - below)[:, None] + count[:, :done - 1] * below[:, None]
        count[:, 0] *= 1.0 - below
    ends = []
    for rank in (k_lo, k_hi):
        at_most = count[:, rank:].sum(axis=1)
        ends.append(float(np.sum(grid * np.diff(at_most, prepend=0.0))))
    return ends[0], ends[1]


def test_campaign_band_is_the_column_recursions_to_the_bit() -> None:
    rng = random.Random(51)
    pools: list[tuple[list[float], list[str]]] = []
    for _ in range(200):
        n, k = rng.randint(2, 400), rng.randint(1, 60)
        pools.append(([round(rng.gauss(0.0, 0.2), rng.choice([2, 4, 9])) for _ in range(n)],
                      [f"c{rng.randrange(k)}" for _ in range(n)]))
    shipped = eb.load_residuals("serving", DEFAULT_SETTINGS, "trtllm", True)
    for metric in ("throughput", "ttft"):
        of = [r for r in shipped if r.metric == metric]
        pools.append(([r.residual for r in of], [r.group for r in of]))
    banded = 0
    for values, campaigns in pools:
        band = eb.campaign_band(values, campaigns)
        assert band == _campaign_band_before(values, campaigns)
        banded += band is not None
    assert banded > 100
