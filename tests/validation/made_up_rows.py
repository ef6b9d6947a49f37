"""Made-up measured serving rows in the silicon sample's columns, for the row-consistency rules' tests
(`validation.serving_row_consistency`): one configuration whose clients, TPOT, TTFT and engine release vary."""

from __future__ import annotations


def made_up_row(row_id: str, clients: str, *, tpot_ms: float, ttft_ms: float, **fields: str) -> dict[str, str]:
    """One row: `fields` replace the configuration's columns (system, backend, backend_version, tp_size, ...)."""
    row = {"id": row_id, "model_path": "m", "system": "h100_sxm", "backend": "vllm", "backend_version": "0.18.0",
           "tp_size": "4", "attention_dp_size": "1", "moe_tp_size": "1", "moe_ep_size": "4", "isl": "1024",
           "osl": "1024", "precision": "fp8", "concurrency": clients, "silicon_tpot_ms": str(tpot_ms),
           "silicon_ttft_ms": str(ttft_ms)}
    return row | fields


def stated_clients(row: dict[str, str]) -> int | None:
    """The row's stated concurrency (None: not stated), as the sets read it."""
    return int(row["concurrency"]) if row["concurrency"] else None
