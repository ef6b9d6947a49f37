"""The Ray backend: the same table as the local backend, and kill -9 then rerun (a local 2-CPU Ray)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from sweep_helpers import HERE, start_cli, wait_for_parts

from infraplan.sweep.runner import run_sweep
from infraplan.sweep.store import load_table

SPEC = {"function": "train", "batch_size": 16,
        "fixed": {"model": "llama3-8b", "system": "dgx-h100-superpod", "seq_len": 2048, "global_batch": 64},
        "axes": {"gpus": [8, 16, 64], "tp": [1, 2, 4, 8], "pp": [1, 2, 3], "recompute": ["none", "full"]}}


@pytest.fixture(scope="module")
def local_ray():
    # imported here, not at collection: every xdist worker collects this module, one runs it (ray: ~0.3 CPU s)
    ray = pytest.importorskip("ray",
                              reason="Ray is not installed: pip install 'infraplan[ray]' (make test installs it)")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    # Ray's workers inherit the environment of the raylet this starts: the toy function must import in every job
    # (no job `runtime_env` on top: workers of a runtime env are started apart from the prestarted ones, ~3 CPU s)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)
    # idle workers are kept: the kill test's CLI joins as a second job with workers of its own, and Ray's default
    # (`idle_worker_killing_time_threshold_ms`, 1,000 ms in ray_config_def.h) would then kill this job's idle
    # workers past the 2-CPU soft limit, for the resume to start new ones (~1 CPU s each: 7 workers -> 4)
    context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
                       _system_config={"idle_worker_killing_time_threshold_ms": 600_000})
    yield context.address_info["gcs_address"]
    ray.shutdown()


def _ipc(table) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def test_ray_and_local_give_byte_identical_tables(local_ray, tmp_path: Path) -> None:
    on_ray = run_sweep(SPEC, tmp_path / "ray", backend="ray", progress=False)
    assert on_ray.backend == "ray" and on_ray.rows == 72 and on_ray.points_failed > 0
    run_sweep(SPEC, tmp_path / "local", backend="local", workers=2, progress=False)
    assert _ipc(load_table(tmp_path / "ray")) == _ipc(load_table(tmp_path / "local"))
    assert run_sweep(SPEC, tmp_path / "ray", backend="ray", progress=False).points_skipped == 72


def test_kill_9_on_ray_then_rerun_loses_and_duplicates_nothing(local_ray, tmp_path: Path, slow_spec: Path) -> None:
    out = tmp_path / "killed"
    # the CLI joins the running cluster (--address), as it would join a real one
    process = start_cli(["sweep", str(slow_spec), "--out", str(out), "--backend", "ray", "--address", local_ray,
                         "--json"])
    try:
        wait_for_parts(out, 1, timeout_s=90)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the driver dies mid-sweep; Ray drops its tasks
        process.wait(timeout=30)
    before = load_table(out).num_rows
    assert 0 < before < 100 and not any(load_table(out).column("error").to_pylist())
    resumed = run_sweep(slow_spec, out, backend="ray", progress=False)
    assert resumed.points_skipped == before and resumed.rows == 100
    table = load_table(out)
    assert table.num_rows == len(set(table.column("key").to_pylist())) == 100
    assert sorted(table.column("square").to_pylist()) == sorted(x * x + 3 for x in range(100))
