"""The SGLang campaigns' engine profiles (hD, session 53): each release's measured GEMM rates
(`release_stacks.mixed_chunk_stack`, AIConfigurator 0.7.0's gemm_perf tables) and the decode graphs AIConfigurator's
generator captures up to the config batch (`campaign_settings.sglang_campaign_stack`, toggle `AIC_SGLANG_GRAPH_BATCHES`,
built OFF: it worsens the dense set; numbers in campaign_settings and validation/notes/serving_hopper_tried.md)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.serving import format_precision, host_overhead
from infraplan.serving.engines import load_engine
from infraplan.serving.host_overhead import graph_batch_cap
from infraplan.validation import campaign_settings
from infraplan.validation import serving_hopper as sh
from infraplan.validation.serving_row_rules import SYSTEMS


def _row(version: str, clients: int, tp: int, osl: int) -> dict[str, str]:
    return next(r for r in sh.load_rows() if r["backend"] == "sglang" and r["backend_version"] == version
                and int(r["batch_size"]) == clients and int(r["tp_size"]) == tp and int(r["osl"]) == osl)


def test_sglang_releases_run_their_measured_gemm_rates():
    # AIConfigurator 0.7.0 sglang/0.5.6.post2 gemm_perf.txt: bf16 GEMMs at 0.801 (H200) / 0.811 (H100) of peak, the
    # catalog's 0.70 before; 0.5.8.post1 (H100 table only) 0.800; another release keeps the catalog's
    h200 = Cluster.resolve(SYSTEMS["h200_sxm"]).accelerator
    h100 = Cluster.resolve(SYSTEMS["h100_sxm"]).accelerator
    dep = sh.row_deployment(_row("0.5.6.post2", 176, 4, 100))
    assert dep.stack.endswith("sglang-0.5.6-mixed-chunk.yaml") and dep.dtype == "bf16"
    assert format_precision.serving_precision(h200, "bf16", dep.stack).rate == pytest.approx(h200.peak("bf16") * 0.801)
    later = sh.row_deployment(_row("0.5.8.post1", 16, 1, 256))
    later_h100 = format_precision.serving_precision(h100, "bf16", later.stack)
    assert later_h100.rate == pytest.approx(h100.peak("bf16") * 0.800)
    assert format_precision.serving_precision(h200, "bf16", later.stack).rate == pytest.approx(h200.peak("bf16") * 0.70)
    other = campaign_settings.sglang_campaign_stack({"backend_version": "0.5.9"})
    assert other == "sglang-0.x-mixed-chunk.yaml"


def test_the_measured_rate_shortens_the_prefill_that_queues_the_prompts(monkeypatch):
    # TP4 at 176 clients, 2,000 / 100 (measured TTFT 502 ms): the model's bf16 prefill at the catalog rate cannot keep
    # up with the measured 51.7 prompts/s (hA53: 1.12 s of prefill a second); at the release's rate it waits less
    row = _row("0.5.6.post2", 176, 4, 100)
    monkeypatch.setattr(sh, "_COSTS", {})
    on = sh.run_row(row)
    monkeypatch.setattr(format_precision, "RELEASE_MATMUL_RATE", False)
    monkeypatch.setattr(sh, "_COSTS", {})
    off = sh.run_row(row)
    assert on["ttft_s"] < 0.97 * off["ttft_s"]  # 2.16 -> 2.03 s
    assert float(row["silicon_ttft_ms"]) / 1e3 < on["ttft_s"] < off["ttft_s"]


def test_generated_sglang_graphs_cover_the_config_batch(monkeypatch):
    # TP2 at 512 clients, 1000 / 2000: SGLang 0.5.6.post2's own cuda_graph_max_bs on an H200 below TP4 is 256
    # (server_args.py:813-822), so the default profile runs those decode steps eager, at the host's pace; the
    # generator's --cuda-graph-bs 1..512 covers them (server_args.py:838-841): the step is the GPU's (on the set:
    # 23.3 -> 21.6 ms a token; TP1 rows are GPU-bound either way)
    row = _row("0.5.6.post2", 512, 2, 2000)
    caps, tpot = {}, {}
    # the GPU step alone: the release's measured Dynamo worker floor (512 x 52 us = 26.6 ms, hC54,
    # `host_overhead.MEASURED_HOST_PER_SEQUENCE`) now binds over both the eager and the graphed step at 512 clients
    monkeypatch.setattr(host_overhead, "MEASURED_HOST_PER_SEQUENCE", False)
    for on in (False, True):
        monkeypatch.setattr(campaign_settings, "AIC_SGLANG_GRAPH_BATCHES", on)
        dep = sh.row_deployment(row)
        caps[on] = graph_batch_cap(load_stack(load_engine(dep.stack).ref), dep.tp)
        monkeypatch.setattr(sh, "_COSTS", {})
        tpot[on] = sh.run_row(row)["tpot_s"]
    assert caps[False] == 256
    assert caps[True] >= int(row["batch_size"])
    assert tpot[True] < 0.95 * tpot[False]
    assert np.isfinite(tpot[True])


def test_graph_rule_stays_on_the_aiconfigurator_harness(monkeypatch):
    monkeypatch.setattr(campaign_settings, "AIC_SGLANG_GRAPH_BATCHES", True)
    row = _row("0.5.6.post2", 512, 2, 2000)
    assert campaign_settings.sglang_campaign_stack(row) == "sglang-0.5.6-mixed-chunk-graphs-to-batch.yaml"
    other = {**row, "silicon_data_source": "db-dump/2026-04-27; config_id=81"}
    assert campaign_settings.sglang_campaign_stack(other) == "sglang-0.5.6-mixed-chunk.yaml"
