"""One valid body of each web command (its required fields, and the few more that keep a run short), shared by the
tests that post one wrong field at a time: the strict-body tests (hE65, tests/web/test_strict_bodies_hE65.py) and
the hostile JSON literals (hH70, tests/web/test_hostile_literals_web_hH70.py), which run each body through
`/api/C`: small sizes (50 requests of 100 + 50 tokens on one GPU, a 10 MW campus, a 1 MiB collective on 16 GPUs),
so that a field left valid costs little."""

from __future__ import annotations

from typing import Any

VALID_BODIES: dict[str, dict[str, Any]] = {
    "train": {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 8, "seq_len": 2048, "global_batch": 16},
    "search": {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": [8], "seq_len": 2048,
               "global_batch": 16},
    "serve": {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 1, "rate": 5, "requests": 50,
              "input_len": 100, "output_len": 50},
    "serve-plan": {"model": "llama3-8b", "system": "dgx-h100-superpod", "rate": 1, "requests": 50, "input_len": 100,
                   "output_len": 50, "ttft_slo": 2, "tpot_slo": 0.1},  # (fixed lengths state no SLO: hB76 saw the
    # job refuse the body without them, once a job refused at once answers 400)
    "recsys": {"model": "dlrm-low", "accelerator": "mtia-v1"},
    "video": {"device": "msvp"},
    "network": {"system": "dgx-h100-superpod"},
    "collective": {"op": "all-reduce", "system": "dgx-h100-superpod", "gpus": 16, "size": "1MiB"},
    "facility": {"system": "dgx-h100-superpod"},
    "campus": {"power": "10MW", "accelerator": "h100-sxm"},
    "reliability": {"system": "meta-rsc", "gpus": 1024},
    "plan": {"scenario": {"preset": "plan-minimal"}},
    "compare": {"scenarios": [{"preset": "plan-minimal"}, {"preset": "plan-minimal"}]},
    "fleet-mix": {"fleet": {"preset": "fleet-mix"}},
}
"""Command -> a body its request model takes and `/api/C` answers (200, or 202 and a job)."""
