"""SGLang 0.5.6.post2's Dynamo worker path as a measured per-sequence host floor (hC, session 54).

The figure is measured by running the engines' own per-token Python (validation/calibration/sglang_056_worker_host.py);
it is on under `host_overhead.MEASURED_HOST_PER_SEQUENCE` while the fitted Dynamo TensorRT-LLM figures stay off
(`HOST_PER_SEQUENCE`). Before this change the stack carried no figure and the 512-client rows' TPOT was half the
measured ~23-30 ms at every TP (TP8 1000 / 1000: 12.5 ms against 22.97)."""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.serving import host_overhead
from infraplan.serving.engines import load_engine
from infraplan.validation import serving_hopper as sh


def _row(tp: str, clients: str, osl: str) -> dict[str, str]:
    return next(r for r in sh.load_rows() if r["backend_version"] == "0.5.6.post2" and r["tp_size"] == tp
                and r["batch_size"] == clients and r["isl"] == "1000" and r["osl"] == osl)


def test_the_sglang_056_stack_carries_a_measured_figure_on_by_its_own_toggle():
    dep = sh.row_deployment(_row("8", "512", "1000"))
    stack = load_stack(load_engine(dep.stack).ref)
    assert stack.serving is not None and stack.serving.host_per_sequence_measured
    # the calibration's worker loop (Python 29-38 us a token GC off, 52-84 us GC on, + the runtime bridge's ~23 us)
    assert 40e-6 < stack.serving.host_per_sequence_s < 100e-6
    assert not host_overhead.HOST_PER_SEQUENCE  # the fitted figures stay off ...
    assert host_overhead.per_sequence_floor(dep) == stack.serving.host_per_sequence_s  # ... the measured one is on
    trt = next(r for r in sh.load_rows() if r["backend_version"] == "1.0.0rc3")
    assert host_overhead.per_sequence_floor(sh.row_deployment(trt)) == 0.0


def test_off_by_its_toggle(monkeypatch: pytest.MonkeyPatch):
    dep = sh.row_deployment(_row("8", "512", "1000"))
    monkeypatch.setattr(host_overhead, "MEASURED_HOST_PER_SEQUENCE", False)
    assert host_overhead.per_sequence_floor(dep) == 0.0


def test_the_512_client_rows_decode_at_the_worker_rate_at_every_tp():
    # measured TPOT 31.52 / 24.88 / 22.97 ms at TP2 / 4 / 8 (1000 / 1000, 512 clients): the GPU step alone gave
    # 23.5 / 15.4 / 12.5 ms (-25 / -38 / -46 %); the worker's rate holds every TP near n x the figure
    for tp, measured in (("2", 31.52), ("4", 24.88), ("8", 22.97)):
        row = _row(tp, "512", "1000")
        assert float(row["silicon_tpot_ms"]) == measured
        tpot = sh.run_row(row)["tpot_s"] * 1e3
        assert tpot == pytest.approx(measured, rel=0.25), (tp, tpot)
    low = _row("8", "512", "1000")
    floor = load_stack(load_engine(sh.row_deployment(low).stack).ref).serving.host_per_sequence_s  # type: ignore
    assert sh.run_row(low)["tpot_s"] > 0.8 * 512 * floor
