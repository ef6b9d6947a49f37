"""The held-slot toggle (`validation.serving_row_rules`): off by default, one slot fewer where on, R / c of wait."""

from __future__ import annotations

from infraplan.validation import serving_hopper as sh
from infraplan.validation import serving_row_rules as sw


def _row(model: str, version: str = "1.0.0rc3", backend: str = "trtllm", **keys: str) -> dict[str, str]:
    for row in sh.load_rows():
        if (model in row["model_path"] and row["backend"] == backend and row["backend_version"] == version
                and all(row[k] == v for k, v in keys.items())):
            return row
    raise AssertionError(f"no row {model} {backend} {version} {keys}")


def test_off_by_default_the_engine_keeps_the_clients_as_its_batch():
    assert sw.SLOT_HELD_SCOPE is None
    row = _row("Llama-3.1-8B", batch_size="8", tp_size="1", isl="1024", osl="512")
    assert all(sw.held_slots(r) == 0 for r in sh.load_rows())
    assert sh.row_deployment(row).max_batch == 8


def test_scope_covers_the_release_dynamo_rows_only(monkeypatch):
    monkeypatch.setattr(sw, "SLOT_HELD_SCOPE", "trtllm")
    llama = _row("Llama-3.1-8B", batch_size="8", tp_size="1", isl="1024", osl="512")
    qwen = _row("Qwen3-32B", batch_size="8", tp_size="1", isl="1024", osl="512")
    assert sh.row_deployment(llama).max_batch == 7 and sh.row_deployment(qwen).max_batch == 7
    assert sw.held_slots(_row("Qwen3-32B", version="0.12.0", backend="vllm")) == 0
    monkeypatch.setattr(sw, "SLOT_HELD_SCOPE", "llama")
    assert sw.held_slots(llama) == 1 and sw.held_slots(qwen) == 0


def test_a_held_slot_makes_each_request_wait_about_one_completion_interval(monkeypatch):
    row = _row("Llama-3.1-8B", batch_size="8", tp_size="1", isl="1024", osl="512")
    free = sh.run_row(row)
    monkeypatch.setattr(sw, "SLOT_HELD_SCOPE", "trtllm")
    held = sh.run_row(row)
    interval_s = (held["ttft_s"] + (int(row["osl"]) - 1) * held["tpot_s"]) / int(row["batch_size"])
    assert 0.7 < (held["ttft_s"] - free["ttft_s"]) / interval_s < 1.3
    assert abs(held["tpot_s"] / free["tpot_s"] - 1.0) < 0.1  # the wait is in TTFT, not in the decode steps
