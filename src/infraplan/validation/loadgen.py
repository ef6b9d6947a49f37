"""MLPerf LoadGen's Server-scenario (and Offline query) rules for the LLM benchmarks, as its C++ source states them.

Source: the mlcommons-loadgen sdists on PyPI (Apache-2.0); line numbers are 6.0.17's, and the rules below read the
same in 5.1.2 (the v5.1 rows' LoadGen, `validation.inference_frontier`) and 4.1.30 (the v4.1 rows, `cases/
inference.yaml`). An Interactive run is a Server run at its own limits (mlperf.conf:116-165, `<model>-interactive`).

* Queries (loadgen.cc:258-275, 316-332, 401-406; test_settings_internal.cc:36): Poisson arrivals at the target QPS
  (exponential gaps, loadgen.cc:201-208). Every LLM benchmark runs equal-issue mode (`sample_concatenate_
  permutation = 1`, mlperf.conf:66-81), which pads the query count to whole shuffled passes of the loaded set and
  adds a pass while the last scheduled arrival is before `min_duration` (600 s, mlperf.conf:85): k passes, the
  least k whose k x N arrivals span 600 s. A Server run never ends early (issue_query_controller.cc:372-375: it
  cannot run out of queries; the "ending naturally" test of line 477 is the other scenarios'), so all k x N are
  issued (`server_passes`).
* Metric (results.cc:446-455, the summary's "Completed tokens per second"; results.cc:815-819 in the detail log):
  token_count / final_query_all_samples_done_time, the run's output tokens over the time from the start until the
  LAST-ISSUED query is done (loadgen.cc:533, 580-581), not the scheduled rate x the mean output. The tail that runs
  after the last arrival therefore counts: `completed_tokens_per_s`. Read backwards (`scheduled_rate_per_s`, the
  row's own TTFT and TPOT means giving the last query's latency), a published row's engine carried more than
  tokens/s over the mean output: DeepSeek-R1 B200 Server (H077) 6.86 against 4.92 req/s (a 252 s tail after 640 s of
  arrivals; 215 sequences per rank by Little's law, not 155), Llama 2 70B and Mixtral 1-6 % more, Llama 3.1
  405B and 8B under 2 %. The last-issued query is one sample (LoadGen's shuffle, its seeds fixed by mlperf.conf:
  33-35), not a mean: for DeepSeek-R1 alone (1-2 passes of ~640-930 s, outputs of 16-20,000 tokens at 66.5 ms) it
  sets the row's rate: a last sample of 16 / 3,779 / 10,000 / 12,800 tokens reads H077 back at 4.93 / 6.86 / 7.85 /
  9.42 req/s (~6 k and 20 k: no rate; the metric jumps between pass counts, `scheduled_rate_per_s`).
  (`validation.operating_point` still reads the published tokens/s over the mean output.)
* Limits (results.cc:86-147, 339-375): the TTFT and the TPOT of each sample, from its scheduled arrival
  (loadgen.cc:103-175), TPOT = (latency - TTFT) / (tokens - 1)
  (logging.cc:475-476: the first token excluded), each sorted and read at index floor(0.99 n) (`target_latency_
  percentile = 99`, mlperf.conf:83), against `ttft_latency` / `tpot_latency`.
* Early stopping (5.1.2 results.cc:149-158, 227-247, 491-510; early_stopping.cc): a run is VALID only if, for TTFT
  and for TPOT separately (`use_token_latencies = 1` for every LLM benchmark, mlperf.conf:84-93: the TPOT array,
  then the TTFT array, each against its own limit), with t samples strictly over the limit the n issued satisfy
  n >= h(t) + t, h(t) the least h with I_0.99(h, t + 1) < 1 - 0.99 (confidence 0.99, tolerance 0, the percentile
  `target_latency_percentile` = 99; the regularized incomplete beta, early_stopping.cc `odds`); an INVALID run
  has no result ("Early stopping satisfied: NO", all_constraints_met). The Server case applies to Interactive
  runs too (a Server scenario at the `-interactive` limits). I_p(h, t + 1) is P(Binomial(h + t, 1 - p) <= t), so
  the test reads: P(Binomial(n, 0.01) <= t) < 0.01, i.e. at most `early_stopping_max_over(n)` samples over each
  limit: 28 of 4,388 (0.64 %), 62 of 8,313 (0.75 %), 2,103 of 221,184 (0.95 %), a stricter percentile than the p99
  for runs of a few thousand samples. Applied by the Server search with the case file's `early_stopping: true`
  (`meets_early_stopping`, `validation.inference.case_meets_slo`): the trial's share over each limit (the serving
  report's `ttft_over_slo_count` / `tpot_over_slo_count` over its requests) times LoadGen's k N issued samples at
  the trial's rate, against the bound for k N (with the case file's `server_equal_issue` the trial issues those k N
  samples, `validation.inference.equal_issue_requests`; on sampled engines their share stands for the pool's).
  Measured: validation/notes/inference_frontier_tried.md.

* Offline (5.1.2 test_settings_internal.cc:139-154, loadgen.cc:316-325, results.cc:292-293 and 444-447): one query
  of max(min_query_count, kSlack x 600 s x expected QPS) samples, kSlack = 1.1, padded to whole passes; tokens/s
  over the time until its last sample is done; valid only if that is >= 600 s. With the run's own rate as the
  expected QPS: the least k passes lasting >= 660 s (`validation.inference.loadgen_passes`, `offline_query_slack`).

ASSUMPTION (`server_tokens_per_s`): the last-issued query's latency is the mean end-to-end latency of the Server
trial's last 1 % of arrivals (the serving report's `e2e_last_arrivals_s`): the trial stops its arrivals as LoadGen's
run does, so they meet the same draining engine, and averaging them stands for whichever sample LoadGen's shuffle
issues last. They take 0.3-0.9x the trial's mean (DeepSeek-R1 71 vs 91 s, Llama 2 70B MI300X 22 vs 44 s). On the
v5.1 set (6 bisection steps; Round 10 of the notes) the mean e2e instead gives 23.11 %, the last 0.1 / 1 / 5 % 23.06
/ 23.16 / 23.10 %, the single last arrival 23.18 %; on the v4.1 Server row the mean -3.50 %, the last 1 % -0.95 %.
"""

from __future__ import annotations

import math
from typing import Any

from infraplan.serving.capacity_confidence import most_over

MIN_DURATION_S = 600.0  # mlperf.conf:85, *.Server.min_duration = 600000 ms
TARGET_PERCENTILE = 0.99  # mlperf.conf:83, *.Server.target_latency_percentile = 99
EARLY_STOPPING_CONFIDENCE = 0.99  # results.cc:157


def server_passes(rate_per_s: float, dataset: int, min_duration_s: float = MIN_DURATION_S) -> int:
    """Whole passes of the dataset a Server run issues at `rate_per_s` (equal-issue mode): the least k >= 1 whose
    k x dataset Poisson arrivals span `min_duration_s` (their expected span, (k N - 1) / rate)."""
    if rate_per_s <= 0.0 or dataset < 1:
        raise ValueError(f"server_passes needs a positive rate and dataset: {rate_per_s}, {dataset}")
    return max(1, math.ceil((min_duration_s * rate_per_s + 1.0) / dataset))


def completed_tokens_per_s(rate_per_s: float, dataset: int, mean_output_tokens: float, last_latency_s: float,
                           min_duration_s: float = MIN_DURATION_S) -> float:
    """LoadGen's Server metric: the k x dataset samples' output tokens over the time until the last-issued query is
    done, its (expected) arrival (k N - 1) / rate plus its latency `last_latency_s`."""
    issued = server_passes(rate_per_s, dataset, min_duration_s) * dataset
    return issued * mean_output_tokens / ((issued - 1) / rate_per_s + last_latency_s)


def early_stopping_max_over(issued: int, percentile: float = TARGET_PERCENTILE,
                            confidence: float = EARLY_STOPPING_CONFIDENCE) -> int:
    """The most samples of `issued` that may exceed a limit in a valid run (module docstring; -1: none may, the
    run is too short to show the percentile at that confidence): `serving.capacity_confidence.most_over`, the one
    rule serve-plan's whole runs are judged by, at the percentile as a share (0.99)."""
    return most_over(issued, percentile * 100.0, confidence)


def meets_early_stopping(result: dict[str, Any], rate_per_s: float, dataset: int,
                         min_duration_s: float = MIN_DURATION_S) -> bool:
    """A Server trial's verdict under LoadGen's early stopping (module docstring): for TTFT and TPOT each, its share
    of requests over the limit, scaled to the k x dataset samples LoadGen issues at `rate_per_s`, within
    `early_stopping_max_over` of them."""
    if rate_per_s <= 0.0 or not result.get("requests"):
        return True  # no passing rate to judge (the search's floor)
    issued = server_passes(rate_per_s, dataset, min_duration_s) * dataset
    allowed = early_stopping_max_over(issued)
    return all(result[key] * issued <= allowed * result["requests"]
               for key in ("ttft_over_slo_count", "tpot_over_slo_count") if result.get(key) is not None)


def server_tokens_per_s(rate_per_s: float, result: dict[str, Any], dataset: int, metric: str) -> float:
    """A Server / Interactive row's predicted tokens/s at the searched rate: `metric` "completed" is LoadGen's
    (`completed_tokens_per_s`), "scheduled" the rate x the mean output."""
    if metric not in ("scheduled", "completed"):
        raise ValueError(f"unknown server metric {metric!r} (scheduled, completed)")
    if metric == "scheduled" or rate_per_s <= 0.0:  # no passing rate: nothing completes
        return rate_per_s * result["mean_output_tokens"]
    return completed_tokens_per_s(rate_per_s, dataset, result["mean_output_tokens"], result["e2e_last_arrivals_s"])


def scheduled_rate_per_s(completed_per_s: float, dataset: int, mean_output_tokens: float, last_latency_s: float,
                         min_duration_s: float = MIN_DURATION_S) -> float:
    """The arrival rate (requests/s) of a Server run that reported `completed_per_s` completed tokens/s, the
    inverse of `completed_tokens_per_s` (a published row's engine carried this rate, not tokens/s over the mean
    output): with k passes, (k N - 1) / rate = k N x mean output / completed - the last query's latency, the k the
    rate itself issues (`server_passes`). The metric jumps where a run gains a pass (one more dataset of tokens over
    almost the same time), so some completed rates no arrival rate gives at a long `last_latency_s`: ValueError.
    Where the last latency exceeds a sample's share of a pass the k-pass rate falls as k grows and the passes it
    issues never rise: the first k at or above them is the one answer, or there is none; else both rise to it."""
    if completed_per_s <= 0.0 or dataset < 1 or mean_output_tokens <= 0.0 or last_latency_s < 0.0:
        raise ValueError(f"scheduled_rate_per_s: {completed_per_s}, {dataset}, {mean_output_tokens}, {last_latency_s}")
    pass_s = dataset * mean_output_tokens / completed_per_s  # each pass's share of the completed time
    passes = int(last_latency_s / pass_s) + 1  # the fewest passes that leave time for arrivals
    while True:
        rate = (passes * dataset - 1) / (passes * pass_s - last_latency_s)
        issued = server_passes(rate, dataset, min_duration_s)
        if issued == passes:
            return rate
        if issued < passes:  # the k-pass rate issues fewer passes and the (k-1)-pass one more: a jump
            raise ValueError(f"no arrival rate gives {completed_per_s:.6g} completed tokens/s with a last query of "
                             f"{last_latency_s:.6g} s: the metric jumps between {passes - 1} and {passes} passes")
        passes += 1
