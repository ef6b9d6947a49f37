"""The TPOT floor of a serve-plan search: the lowest TPOT any deployment of the layouts it tried can reach.

Modelled: one request decoding alone (batch 1, no queue, no prefill beside it) on each layout priced by
`serving.capacity.search_capacity`; a larger deployment only lowers a replica's load towards that, and a batch, a
longer context or a prefill only lengthens a decode step, so no TPOT percentile falls below it. Source: the search's
own simulator (`serving.capacity_candidate.Candidate.run`); hU41 / hV41 (a `--tpot-slo` below the floor is told so
instead of `--max-gpus N`). Moved out of `serving.capacity` (hS42).
"""

from __future__ import annotations

import numpy as np

from infraplan.serving.capacity_candidate import Candidate
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
