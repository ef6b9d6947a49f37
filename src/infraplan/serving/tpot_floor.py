"""The TPOT and TTFT floors of a serve-plan search: the lowest TPOT, and TTFT percentile, any deployment of the
layouts it tried can reach.

Modelled: one request decoding alone (batch 1, no queue, no prefill beside it) on each layout priced by
`serving.capacity.search_capacity`; a larger deployment only lowers a replica's load towards that, and a batch, a
longer context or a prefill only lengthens a decode step, so no TPOT percentile falls below it. Source: the search's
own simulator (`serving.capacity_candidate.Candidate.run`); hU41 / hV41 (a `--tpot-slo` below the floor is told so
instead of `--max-gpus N`). Moved out of `serving.capacity` (hS42).

TTFT (hU55): a request's TTFT is its stack's front end (`serving_sim.front_end_s`) plus its wait and its prefill; a
deployment of any size only shortens the wait, so no request's TTFT falls below its prompt prefilling alone (no
queue, no decode beside it) on the fastest layout tried, and no TTFT percentile falls below the alone TTFT of the
prompt at that percentile of the sample's lengths (numpy's "lower" percentile: a prompt at or below the one the run's
percentile lands on; ASSUMPTION: a longer prompt never prefills faster, the iteration cost growing with its tokens).
Before, a TTFT SLO above the front end but below a long prompt's prefill was told only "no deployment within 16,384
accelerators meets the SLOs" (Llama 3 70B chat on H100 at a 250 ms p99, whose 6,000-token p99 prompt alone takes
about 0.3 s).
"""

from __future__ import annotations

import numpy as np

from infraplan.serving.capacity_candidate import Candidate
from infraplan.serving.serving_sim import front_end_s
from infraplan.serving.workloads import Requests


def best_tpot_s(tried: list[Candidate], sample: Requests) -> float | None:
    """The lowest TPOT of the layouts `tried`: the sample's shortest request of more than one output token decoding
    alone (batch 1, no queue, no other prefill) on each. More replicas only lower a replica's load towards that, and
    a longer context, a batch or a prefill beside it only lengthen a step, so no deployment of these layouts at any
    size gets a TPOT percentile below it (hU41: `--tpot-slo 1ms` was told `--max-gpus N` searches more). None: no
    layout tried or no request of two tokens."""
    multi = np.flatnonzero(sample.output_tokens > 1)
    if not tried or not multi.size:
        return None
    one = sample.subset([int(multi[np.argmin(sample.input_tokens[multi] + sample.output_tokens[multi])])])
    alone = Requests(np.zeros(1), one.input_tokens, one.output_tokens)
    times = [cand.run(alone, "mixed") for cand in tried]
    return min(float(t.finish_s[0] - t.first_token_s[0]) for t in times) / float(one.output_tokens[0] - 1)


def tpot_floor_reason(floor: float | None, tpot: float, model: str, acc: str, limit: int, every_tp: bool) -> str:
    """Why no deployment meets a TPOT SLO below `floor` (`best_tpot_s`), at any size or (TP layouts beyond
    `limit` not tried) within `limit` accelerators; '' when the SLO is at or above it."""
    if floor is None or tpot >= floor:
        return ""
    where = "at any size" if every_tp else f"within {limit:,} accelerators (wider TP not tried: --max-gpus N)"
    return (f"the TPOT SLO {tpot * 1e3:.3g} ms is below what {model} decodes on {acc} {where}: the best TPOT found "
            f"is {floor * 1e3:.3g} ms (one request decoding alone on the fastest layout tried)")


def best_ttft_s(tried: list[Candidate], sample: Requests, percentile: float) -> tuple[float, int] | None:
    """The lowest TTFT `percentile` the layouts `tried` reach, seconds, and the prompt (tokens) it is read on: the
    sample's prompt at that percentile (numpy "lower") prefilling alone, with its stack's front end, on each layout
    in its colocated and its prefill-pool form (module docstring: no deployment of these layouts at any size goes
    below it). None: no layout tried."""
    if not tried or not len(sample):
        return None
    prompt = int(np.percentile(sample.input_tokens, percentile, method="lower"))
    alone = Requests(np.zeros(1), np.array([prompt], dtype=sample.input_tokens.dtype),
                     np.ones(1, dtype=sample.output_tokens.dtype))
    best = min(float(cand.run(alone, mode).first_token_s[0]) + front_end_s(cand.dep)
               for cand in tried for mode in ("mixed", "prefill"))
    return best, prompt


def ttft_floor_reason(floor: tuple[float, int] | None, ttft: float, percentile: float, model: str, acc: str,
                      limit: int, every_tp: bool) -> str:
    """Why no deployment meets a TTFT SLO below `floor` (`best_ttft_s`), at any size or within `limit`
    accelerators; '' when the SLO is at or above it."""
    if floor is None or ttft >= floor[0]:
        return ""
    where = "at any size" if every_tp else f"within {limit:,} accelerators (wider TP not tried: --max-gpus N)"
    return (f"the TTFT SLO {ttft:.3g} s at p{percentile:g} is below what {model} reaches on {acc} {where}: the best "
            f"TTFT p{percentile:g} found is {floor[0]:.3g} s (the sample's p{percentile:g} prompt, {floor[1]:,} "
            "tokens, prefilling alone on the fastest layout tried, with the stack's front end)")
