"""A request's latency metrics from its client-side times: the one home of the TTFT and TPOT formulas.

TTFT = first token - arrival; TPOT = (finish - first token) / max(output tokens - 1, 1), the time per output token
after the first (vLLM benchmarks/benchmark_serving.py `calculate_metrics`: `latency_minus_ttft / (output_len - 1)`
where output_len > 1). A request of one output token has no TPOT: both readers mask it
(`serving_metrics.summarize`: NaN, never over an SLO; `miss_stop.MissWatch`: not counted), and the max(., 1) keeps
the division finite for it. Three readers take them: the run's report (`serving_metrics.summarize`), the open-loop
stop that counts an engine's requests over an SLO as soon as the engine has run (`miss_stop.MissWatch`) and
serve-plan's probe (`capacity_candidate`, its TPOT of the multi-token requests); the same float operations on each
request's own values, so the stop's counts are the report's (hG72).
"""

from __future__ import annotations

import numpy as np


def ttft_s(first_s: np.ndarray, arrival_s: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Each request's time to first token (s): first token - arrival; into `out` where given (`summarize` writes
    it over the first-token times it no longer reads)."""
    return np.subtract(first_s, arrival_s, out=out)


def tpot_s(first_s: np.ndarray, finish_s: np.ndarray, output_tokens: np.ndarray) -> np.ndarray:
    """Each request's time per output token after the first (s): (finish - first) / max(output tokens - 1, 1), the
    token counts as (exact) floats; a fresh array (a one-token request's is its decode span: its readers mask it)."""
    tpot = np.subtract(finish_s, first_s)
    per = np.subtract(output_tokens, 1.0)
    return np.divide(tpot, np.maximum(per, 1.0, out=per), out=tpot)
