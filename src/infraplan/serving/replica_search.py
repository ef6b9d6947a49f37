"""The replica-count search behind `serve-plan` (`serving.capacity.search_capacity`): the fewest replicas of one
pool that meet the SLO, by doubling then bisection, with the two prunings that keep it exact.

- `fewest_replicas`: smallest r with meets(r), assuming meets is monotone in r (more replicas never raise a
  percentile latency at a fixed arrival rate); `moot` stops a search whose answer would be discarded anyway,
  `overloaded` skips replica counts whose queue is plainly beyond the TTFT SLO (`overloaded_replicas`), `top`
  probes first the most replicas whose answer could be kept (a level below a better whole run).
- `run_level`: the options of one PP level, disaggregated ones likeliest-smallest first, ranked by `option_rank`;
  the result equals the plain enumeration-order search's first ALTERNATIVES + 1 (proof in its docstring; a test
  compares the two).
- `whole_runs`: every PP level in turn, each searched below the best whole run met so far and its best options run
  whole until one meets the SLO: the fewest accelerators over all levels, ties to less PP (at most 4 levels x
  (FULL_RUN_TRIES + LEVEL_RETRIES) = 24 whole runs of up to 400,000 requests each, `capacity_horizon`); a layout
  whose whole run misses near its SLO is retried with one more replica in the pool(s) that missed (a TTFT miss: the
  pool holding its misses, `ttft_miss_pools`, hJ66), or as many as an unsettled pool needs (`grown`, hQ51), ranked
  among the level's options: it is answered only after every option ranked before it was run whole (hB49).

Work `serving.capacity`'s search saves without changing any answer (the same probes decide the same replica counts;
moved here from its docstring, hY53):
- a probe's verdict is memoised (process-wide) on everything the simulation reads (`capacity_candidate`; the
  request arrays are seeded, so a rate share that recurs across candidates, phases or systems is the same
  stream); so is each candidate's offline peak, which does not depend on the rate;
- a search stops as soon as its answer cannot matter: the answer is never below the bisection's lower end, so
  when that end already makes the option exceed the replica limit (a disaggregated pair, with the other pool's
  count) or places it behind `ALTERNATIVES + 1` strictly smaller options, the option is dropped as the full
  search would have it dropped or unlisted;
- the options of a PP level are searched likeliest-smallest first (`run_level`), so that those stops come
  early, and listed in enumeration order before the sort, so the winner and alternatives, ties included, are the
  plain search's (probes of the gigawatt-2027 and meta-2024 scenarios' searches: 2,015 -> 1,894 and 1,118 -> 1,056);
- a PP level searched below a better whole run (`whole_runs`) takes its replica limit from it: a layout of more
  accelerators than the best less one is not built, one whose pools all miss at the most replicas that would
  still beat it (one probe each, monotone in replicas) gets no offline peak and no search, and each pool's
  search probes that most first (`fewest_replicas`'s `top`): Llama 3 70B chat at 100 requests/s on H100
  searches PP 4 and 8 below 36 with 5 probes, where unbounded they take 186 (hN45);
- candidates (cost tables, KV capacity) and seeded request streams are built once per process for equal inputs.
One shortcut rests on a premise, not on exactness: the prefill pool's doubling from one replica skips the
powers of two at which a replica is offered >= OVERLOAD_SKIP times its offline prefill rate and the TTFT SLO
is far below the queue that builds (`overloaded_replicas`), taking them as misses, and resumes where the full
doubling would be: its answer is the full search's whenever those probes would have missed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infraplan.serving.capacity_candidate import Candidate
from infraplan.serving.replica_packing import aligned_gpus
from infraplan.serving.workloads import Requests

# Overload skip (the prefill pool's doubling from one replica; `overloaded_replicas`): a prefill replica offered at
# least OVERLOAD_SKIP times the request rate it completes offline (every prompt present at t = 0, the token budget
# always full) is taken to miss without a probe, when the queue that builds is plainly beyond the TTFT SLO: in
# the fluid picture the later half of the probe's requests waits >= (1 - 1/OVERLOAD_SKIP) / 2 of the offline
# seconds; that must exceed SLO_MARGIN x the SLO, and half the requests SLO_MARGIN x the share the percentile
# allows. Not for decode pools: an offline decode run lasts as long as its longest output (a tail, not a
# throughput), so its rate understates what a replica sustains online.
OVERLOAD_SKIP = 4.0
SLO_MARGIN = 2.0
ALTERNATIVES = 9  # next-best deployments reported after the winner
FULL_RUN_TRIES = 4  # whole-deployment runs of one PP level's options before the next level (ASSUMPTION: a bound)
# A layout whose whole run misses is retried grown (`grown`) before it is dropped, at most LEVEL_RETRIES grown options
# a PP level and FULL_RUN_TRIES + LEVEL_RETRIES whole runs (ASSUMPTION: a bound; hB48, hB49): the probes size each
# pool on one replica's share over a shorter horizon than the whole run's, so a layout a replica or two short of its
# whole run's need was dropped for the next, larger option (README code completion: TP4 14P + 1D on 60 missed TTFT
# by 1.02x, 15P + 2D on 68 met).
LEVEL_RETRIES = 2
# Only a near miss is retried: every missed percentile at most RETRY_NEAR times its SLO (ASSUMPTION, measured, hB48:
# one more replica adds 1 / r of a pool's rate, which clears a tail a few % over the SLO, not a queue that builds;
# retried misses at 1.02-1.06 x the SLO met grown (README code completion 60 -> 68, gigawatt-2027's PP4 268 -> 276),
# none of those at 1.7-7.5 x did, at 2 whole runs of 100,000 requests each).
RETRY_NEAR = 1.25
PP_LEVELS = 4  # the PP levels `whole_runs` walks (1, 2, 4, 8): `SearchProgress`'s total
Stages = Callable[[str, float, float], None]
"""A progress callback, `tick(stage, done, total)`: `plan`'s and `collective --sim flow`'s shape (the CLI's
`stage_bar`, the web job's percentage)."""


class SearchProgress:
    """`serve-plan`'s progress as `Stages` (hJ58: its web job said 0 % for the 8 s it ran, hD58): each PP level is one
    unit of PP_LEVELS, the first half its options' replica searches (`run_level`'s jobs, each a doubling and
    bisection: searches done / jobs), the second half its whole runs (each 1 / (FULL_RUN_TRIES + LEVEL_RETRIES) of it,
    ticked as it starts). A level cut short (its first whole run meets, or no option fits below a better one) jumps
    to the next. `capacity.search_capacity` tells it each level (`next_level`) and whole run (`whole_run`); it reads
    the search and changes nothing in it: answers are byte-identical with or without it."""

    def __init__(self, tick: Stages | None = None) -> None:
        self.tick, self.level, self.pp, self.runs = tick, -1, 0, 0

    def next_level(self, pp: int) -> int:
        """The search starts the level of `pp` stages (0: none left), told before its layouts are built (their
        offline peaks: 9 s CPU for deepseek-v3 on GB200 at two dtypes with MTP tried, which the web's
        `jobs.check_input` ran in the request thread before its first report, hR77); returns `pp`."""
        self.level, self.pp, self.runs = self.level + 1, pp, 0
        self._say("layouts", 0.0)
        return pp

    def _say(self, what: str, share: float) -> None:
        if self.tick is not None and self.pp and self.level < PP_LEVELS:
            self.tick(f"PP{self.pp}: {what}", self.level + share, PP_LEVELS)

    def counted(self, run: Callable[[SearchJob, list[dict[str, Any]]], list[int] | None],
                jobs: int) -> Callable[[SearchJob, list[dict[str, Any]]], list[int] | None]:
        """`run_level`'s `run` for a level of `jobs` jobs, told as each search ends (a job `run_level` skips is not
        run: the level's half may end short of its end, and its first whole run then jumps to it)."""
        done = [0]
        self._say(f"replica searches 0/{jobs}", 0.0)

        def counting(job: SearchJob, among: list[dict[str, Any]]) -> list[int] | None:
            got = run(job, among)
            done[0] += 1
            self._say(f"replica searches {done[0]}/{jobs}", 0.5 * done[0] / jobs)
            return got

        return counting

    def whole_run(self) -> None:
        """The level's next whole run starts."""
        self._say(f"whole run {self.runs + 1}", 0.5 + 0.5 * min(self.runs / (FULL_RUN_TRIES + LEVEL_RETRIES), 1.0))
        self.runs += 1


def fewest_replicas(meets: Callable[[int], bool], low: int, high: int,
                     moot: Callable[[int], bool] = lambda lo: False, overloaded: float = 0.0,
                     top: int = 0) -> int | None:
    """Smallest r in [low, high] with meets(r) (assumed monotone), by doubling then bisection.

    `moot(lo)`: True when any answer >= lo would be discarded anyway; the search then stops with None (the
    answer is never below the current lower end, so the probes it skips could not have changed the outcome).
    `overloaded`: replica counts up to this are taken to miss without a probe (`OVERLOAD_SKIP`); a doubling
    from 1 then starts at the first power of two above it, with the lower end the full search would have there.
    `top` > 0: the most replicas whose answer would be kept (a PP level searched below a better whole run,
    `whole_runs`); it is probed first, and a miss there ends the search with None (by monotonicity no r <= top
    meets, and any larger answer would be discarded), one probe where the doubling climbs to it in log2 steps.
    """
    r = max(low, 1)
    if r == 1 and overloaded >= 1 and high >= 2:
        skip = 1 << min(int(math.floor(math.log2(overloaded))) + 1, int(math.floor(math.log2(high))))
        low, r = skip // 2 + 1, skip  # as if 1, 2, 4, ..., skip / 2 had been probed and missed
    if moot(max(low, 1)) or (top > 0 and (top < max(low, 1) or not meets(top))):
        return None
    while not meets(r):
        if r >= high:
            return None
        low, r = r + 1, min(2 * r, high)
        if moot(low):
            return None
    hi = r
    while low < hi:
        mid = (low + hi) // 2
        if meets(mid):
            hi = mid
        else:
            low = mid + 1
            if moot(low):
                return None
    return hi


def overloaded_replicas(offline_s: float, req: Requests, rate: float, ttft_slo: float, q: float) -> float:
    """Prefill-pool replica counts up to this miss the TTFT SLO without a probe (0: none; OVERLOAD_SKIP)."""
    late_wait_s = (1.0 - 1.0 / OVERLOAD_SKIP) * offline_s / 2.0  # the later half of the requests waits this
    if late_wait_s < SLO_MARGIN * ttft_slo or SLO_MARGIN * (1.0 - q / 100.0) > 0.5:
        return 0.0
    return rate * offline_s / len(req) / OVERLOAD_SKIP


def moot_beyond(options: list[dict[str, Any]], fixed: int, rest: int, gpus_of: Callable[[int], int],
          high: int) -> Callable[[int], bool]:
    """`fewest_replicas`'s `moot` for one pool of an option: with `fixed` replicas of the option's other pool
    and at least `rest` more to come, `lo` of this pool exceeds the replica limit, or makes the option sort
    behind the winner and every listed alternative (`ALTERNATIVES` + 1 strictly smaller options). `gpus_of`: the
    accelerators a count of the option's replicas holds (`SearchJob.gpus`)."""
    def moot(lo: int) -> bool:
        least = fixed + lo + rest
        return least > high or sum(o["gpus"] < gpus_of(least) for o in options) > ALTERNATIVES
    return moot


@dataclass(frozen=True)
class SearchJob:
    """One option of a PP level to search: a candidate in a mode (colocated, or prefill + decode pools)."""

    order: int  # its place in the plain search's enumeration (ties sort in this order)
    mode: tuple[str, ...]
    cand: Candidate
    low: int  # the colocated lower bound on replicas (the offline peak)
    high: int  # the most replicas within the accelerator limit
    option: dict[str, Any]
    prefill: Candidate | None = None  # the prefill pool's candidate where its layout is its own (`capacity_layouts`)
    domain: int = 0  # the scale-up domain its TP groups pack into (`replica_packing`; 0: each replica's own GPUs)

    @property
    def gpr(self) -> int:
        return self.cand.dep.gpus_per_replica

    def gpus(self, replicas: int) -> int:
        """The accelerators `replicas` of the option hold (`replica_packing.aligned_gpus`: both pools' replicas are
        PP stage groups of TP x attention DP accelerators, `capacity_layouts`' own prefill layouts too)."""
        if not self.domain:
            return replicas * self.gpr
        unit = self.cand.dep.tp * self.cand.dep.attention_dp
        return aligned_gpus([(replicas, self.gpr // unit)], unit, self.domain)  # PP groups a replica


def _likeliest_smallest(job: SearchJob) -> tuple[int, int]:
    """The order `run_level` searches the disaggregated options in: by their colocated bound on GPUs."""
    return job.gpus(job.low), job.order


def option_rank(option: dict[str, Any]) -> tuple[int, int, bool, bool, bool, int, int, int, int]:
    """The options' sort key: fewest GPUs (held: `replica_packing`); ties: fewer of them idle beside the TP groups
    (TP 8 x 1 before TP 6 x 1 on an 8-GPU node), plain decoding before MTP drafts (`capacity_space`: MTP only where it
    saves accelerators), colocated, one layout in both pools before a prefill layout of its own (`capacity_layouts`:
    only where it saves accelerators), then TP layouts before wide EP (EP only where it saves accelerators), wide EP
    before MoE TP (`capacity_layouts`: MoE TP only where it saves accelerators), then less TP, then the larger batch
    cap."""
    used = option["replicas"] * option["tp"] * option["pp"] * option["attention_dp"] if {
        "replicas", "tp", "pp", "attention_dp"} <= option.keys() else option["gpus"]
    return (option["gpus"], option["gpus"] - used, option.get("speculative_tokens", 0) > 0, option["disaggregated"],
            option.get("prefill_tp") is not None, option["attention_dp"], option.get("moe_tp", 1), option["tp"],
            -option["max_batch"])


def run_level(jobs: list[SearchJob], run: Callable[[SearchJob, list[dict[str, Any]]], list[int] | None],
               limit: int) -> list[dict[str, Any]]:
    """The options of one PP level, in enumeration order; sorted by `option_rank`, their first ALTERNATIVES + 1 are the
    plain enumeration-order search's.

    `run(job, among)`: the job's replicas per pool; None beyond the limit or when `among` makes it moot
    (`moot_beyond`). The disaggregated jobs run first, likeliest-smallest first (`_likeliest_smallest`), so that later
    searches meet the small options early and stop sooner; the colocated ones then run in enumeration order,
    skipped when an option met earlier in that order is below their offline bound (as the plain search skips
    them: the offline peak bounds colocated replicas only, a disaggregated pair's decode pool runs without the
    prefills, and under wide EP their lock-step stall, so it may exceed the colocated peak). Exact: a moot option
    has ALTERNATIVES + 1 options strictly below it, and a colocated one that the plain search would skip but this
    one runs is above an earlier option that is either kept or moot, so neither can enter the first
    ALTERNATIVES + 1 (by induction on GPUs), and every other option is searched alike."""
    kept: dict[int, dict[str, Any]] = {}  # enumeration order -> option

    def settle(job: SearchJob, got: list[int] | None) -> None:
        if got is not None:
            kept[job.order] = {"gpus": job.gpus(sum(got)), **job.option, "replicas": sum(got),
                               "prefill_replicas": got[0] if len(got) == 2 else 0, "disaggregated": len(got) == 2}

    for job in sorted((j for j in jobs if len(j.mode) == 2), key=_likeliest_smallest):
        settle(job, run(job, list(kept.values())))
    for job in (j for j in jobs if len(j.mode) == 1):
        bound = job.gpus(job.low)
        if bound <= limit and not any(o < job.order and option["gpus"] < bound for o, option in kept.items()):
            settle(job, run(job, list(kept.values())))
    return [kept[o] for o in sorted(kept)]


def ttft_miss_pools(result: dict[str, Any]) -> tuple[bool, bool]:
    """Which pools of a disaggregated whole run (its serve metrics, `simulate_disaggregated`'s `wait_split`) hold its
    TTFT misses: (the prefill pool, the decode pool). A disaggregated TTFT is the prefill pool's queue and prefill,
    the KV transfer, and the wait at the decode engine's admission for a free slot (hB47: gigawatt-2027's 193P + 43D,
    prefill-only TTFT p99 4.25 s and decode admission wait p99 5.0 s). A request over the TTFT SLO that would have met
    it admitted as its KV arrived is the decode pool's; one over it even so, the prefill side's. A pool holds the
    misses where it holds at least half of them (ASSUMPTION: the larger share, both at a tie; a near miss's retry
    adds one replica, and a retry that still misses on the other pool's share is retried again, LEVEL_RETRIES). Both
    where the run does not say (colocated, no TTFT SLO, or no request over it). A closed-loop run would split its
    misses by the same rule, but none is retried: serve-plan's whole runs are open loop at its rate (`search_capacity`
    takes no clients), so `simulate_disaggregated` counts the split in its open loop only (hC67)."""
    over, kept = result.get("ttft_over_slo_count"), result.get("ttft_over_slo_without_decode_wait_count")
    if not over or kept is None:
        return True, True
    return 2 * kept >= over, 2 * (over - kept) >= over


def grown(option: dict[str, Any], ttft_ratio: float, tpot_ratio: float, limit: int,
          least: tuple[int, int] = (0, 0), ttft_pools: tuple[bool, bool] = (True, True),
          domain: int = 0) -> dict[str, Any] | None:
    """`option` with more replicas in each pool whose metric its whole run missed (percentile / SLO above 1); None
    beyond `limit` accelerators, when it missed neither or either by more than RETRY_NEAR: colocated, one more
    replica; disaggregated, one more in the pool that missed: a TPOT miss grows the decode pool, a TTFT miss the pool
    that holds its misses (`ttft_pools`, `ttft_miss_pools`: the prefill pool, or the decode pool where the requests
    over the SLO waited at its admission; both where the run does not say). Before (hB47 to hA66) a TTFT miss grew
    both pools: Llama 3 70B chat at 20 requests/s on H100, TTFT 2 s, TPOT 50 ms, `--requests 300`: TP2 3P + 1D
    missed TTFT (not shown within it at its confidence; TPOT p99 0.53 of its SLO) and grew to 4P + 2D (12 GPUs) where
    4P + 1D (10) meets, and TTFT 1.5 s answered 10 (hA66). One more replica each, or where a pool's queue did
    not settle the fewest it settles at, `least` (the prefill pool or colocated replicas, the decode pool; 0: none
    given; `capacity_horizon.option_settling`, hQ51: one replica at a time left gigawatt-2027's 2027 chat decode
    pool unsettled at 103, 104 and 105 replicas). `domain` (> 0): the accelerators counted are those the replicas
    hold on scale-up domains of that size (`replica_packing`, the option's TP, PP and attention DP)."""
    ttft_missed, tpot_missed = ttft_ratio > 1.0, tpot_ratio > 1.0
    if not (ttft_missed or tpot_missed) or max(ttft_ratio, tpot_ratio) > RETRY_NEAR:
        return None
    unit = option["tp"] * option["attention_dp"] if domain else 0
    gpr = unit * option["pp"] if domain else option["gpus"] // option["replicas"]
    if not option["disaggregated"]:
        prefill, replicas = 0, max(option["replicas"] + 1, least[0])
    else:
        prefill = max(option["prefill_replicas"] + int(ttft_missed and ttft_pools[0]), least[0])
        decode = option["replicas"] - option["prefill_replicas"] + int(tpot_missed or (ttft_missed and ttft_pools[1]))
        replicas = prefill + max(decode, least[1])
    gpus = aligned_gpus([(replicas, option["pp"])], unit, domain) if domain else replicas * gpr
    if gpus > limit:
        return None
    return {**option, "gpus": gpus, "replicas": replicas, "prefill_replicas": prefill}


def whole_runs(next_level: Callable[[int | None], list[dict[str, Any]] | None],
               full_run: Callable[[dict[str, Any]], tuple[Any, bool]],
               grow: Callable[[dict[str, Any], Any], dict[str, Any] | None] | None = None,
               verdict_only: Callable[[dict[str, Any]], tuple[Any, bool]] | None = None,
               ) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], Any, bool]]]:
    """The whole-deployment runs that pick `serve-plan`'s answer: the fewest accelerators over every PP level.

    `next_level(below)` searches the next level (PP 1, 2, 4, 8: its options from `run_level`; None when none is
    left) for options of fewer than `below` accelerators (None: up to the limit); its best FULL_RUN_TRIES options
    (`option_rank`) are run whole at the full rate (`full_run(option)`: the run and whether it meets the SLO) until
    one meets. Every level is searched, each below the best whole run met so far, so a deeper level is kept only
    where it takes strictly fewer accelerators (ties go to the shallower pipeline: less PP, lower latency), and
    a level none of whose layouts fits below that best costs no probe (the bound is the level's replica limit,
    `moot_beyond`). Before (hN44, session 43), the first level with a whole run that met ended the search: Llama 3
    70B code completion at 80 requests/s on H100 answered 192 (TP8 PP4) within 256 or 1,024 accelerators and
    1,376 (TP8 PP2) within 4,096 or 16,384 (hL47, session 44), a larger limit giving a larger answer.

    `grow(option, run)`: the option a missed whole run is retried as (`grown`; None: dropped), up to LEVEL_RETRIES
    grown options a level (hB48). A level's whole runs walk its ranking in `option_rank` order with the grown options
    ranked in it (a grown option after its level's options of equal rank), until one meets or the level has run
    FULL_RUN_TRIES + LEVEL_RETRIES: its first FULL_RUN_TRIES options, and past them only while a grown option waits
    behind (hB49). So every option ranked before the level's answer was run whole and missed: before, a level ran
    its first FULL_RUN_TRIES options and the grown ones only, and a grown option could be answered past a cheaper
    option that passed its probes and was never run (hR48); a grown option the level's runs end before is dropped.
    Without a grown option a level runs what it ran before.

    `verdict_only(option)` (None: `full_run`): the run where nothing here reads it but whether it meets, a run that
    is not the first and that no grown option can follow (`grow` None, or the level's LEVEL_RETRIES made): only the
    answer (the last run that meets, else the first) and `grow` read a run, so the answer is `full_run`'s; only the
    runs listed beside it (serve-plan's `rejected`) may differ (`capacity.search_capacity`'s `answer_only`, hS70).

    Returns the answer's level's options, ranked (none meeting at any level: the first level with options, whose
    first option is then the answer, `meets` false), and every whole run in order: (option, run, meets); the
    answer is the last run that meets (each one after the first has fewer accelerators). Worst case, no whole run
    meets at any level: 4 PP levels x (FULL_RUN_TRIES + LEVEL_RETRIES) = 24 whole runs (4, one level, before hU47;
    16 before hB48), each of up to `capacity_horizon.HORIZON_MAX_REQUESTS` (400,000; 100,000 before hS49) requests
    and its warm-up's again: 14.4 M simulated requests beside the probes."""
    first: list[dict[str, Any]] = []
    answer: list[dict[str, Any]] = []
    runs: list[tuple[dict[str, Any], Any, bool]] = []
    best: int | None = None  # the accelerators of the best whole run met so far
    while (options := next_level(best)) is not None:
        options = sorted(options, key=option_rank)  # stable: equal keys stay in enumeration order
        first = first or options
        waiting: list[dict[str, Any]] = []  # grown options not yet run, ranked
        tried = retries = 0  # the level's options taken so far (in rank order), its grown options made
        for _ in range(FULL_RUN_TRIES + LEVEL_RETRIES):
            # the next in rank order: the level's next option (before a grown one of equal rank), or a grown one;
            # past the first FULL_RUN_TRIES options only while a grown one waits behind it (hB49)
            if tried < len(options) and (tried < FULL_RUN_TRIES or waiting) and (
                    not waiting or option_rank(options[tried]) <= option_rank(waiting[0])):
                option, tried = options[tried], tried + 1
            elif waiting:
                option = waiting.pop(0)
            else:
                break
            if best is not None and option["gpus"] >= best:  # `next_level` keeps below it; a guard, not a path
                break
            read = not runs or (grow is not None and retries < LEVEL_RETRIES)  # beyond its verdict
            runs.append((option, *(full_run if read or verdict_only is None else verdict_only)(option)))
            if runs[-1][2]:
                answer, best = options, option["gpus"]
                break
            more = grow(option, runs[-1][1]) if grow is not None and retries < LEVEL_RETRIES else None
            if more is not None:
                retries += 1
                at = next((i for i, o in enumerate(waiting) if option_rank(more) < option_rank(o)), len(waiting))
                waiting.insert(at, more)
    return (answer if best is not None else first), runs


def chosen_run(runs: list[tuple[dict[str, Any], Any, bool]]) -> tuple[dict[str, Any], Any, bool]:
    """The answer among `whole_runs`'s runs: the last that meets (the fewest accelerators), else the first."""
    return next((r for r in reversed(runs) if r[2]), runs[0])


def next_best(options: list[dict[str, Any]], runs: list[tuple[dict[str, Any], Any, bool]],
              chosen: dict[str, Any]) -> list[dict[str, Any]]:
    """serve-plan's next-best deployments: the answer's level's ranking (its first ALTERNATIVES + 1) less the
    winner, any option whose whole run missed (in `rejected`: listing one contradicted the answer's own "misses the
    SLO" line) and any with fewer accelerators than the answer (hR48: a grown retry can win past a cheaper option the
    level never ran, FULL_RUN_TRIES; listing it contradicted "fewest accelerators"); then the shallower levels'
    answers a deeper one beat (their whole runs met; more accelerators than the answer)."""
    missed = [r[0] for r in runs if not r[2]]
    level = [o for o in options[:ALTERNATIVES + 1]
             if o is not chosen and o["gpus"] >= chosen["gpus"] and all(o is not m for m in missed)]
    return (level + [r[0] for r in reversed(runs) if r[2] and r[0] is not chosen])[:ALTERNATIVES]
