"""What a training job does while its system has no spare unit for a failed one: wait for the repair, or shrink.

Daly's goodput (`facility.checkpoint_goodput`) restarts the job within its restart time on hardware in service: a
failed server's work moves to a spare server (or, where a scale-up domain spans servers, NVL72, a spare domain)
outside the job while it is repaired, as Llama 3's 16,384-GPU job ran on a 24,576-GPU cluster (arXiv:2407.21783
Sec. 3.3.4). A system holds B units (servers, or domains), the job D of them, s = B - D spares; units out of service
at a random instant are X ~ Poisson(mu), mu = B x the mean each unit is out (`outage.domain_hold`'s M/G/infinity
mean: failures that take a node out x the repair time). While X <= s the job runs at full size, as Daly assumes;
while X > s it is short of X - s units, and the policy (`--no-spare-policy`) says what it does:

- `wait`: the job idles until enough units are repaired and resumes at full size (a fixed-size job's behaviour: its
  parallel plan names every rank). It runs P(X <= s) of the time (`full_size_fraction`).
- `shrink` (the default): the job restarts from its last checkpoint on the units in service, data parallelism shrunk to
  the replicas that fit them (Megatron-Core's distributed checkpoints load at another DP size:
  megatron/core/dist_checkpointing, "resharding"; the global batch kept by more micro-batches a replica). A plan's job
  (`train --tokens`, `search --tokens`, `plan` / `scenario` training rows, the web) runs at its smaller plan's
  throughput, the step priced again at fewer replicas and the same global batch (`speed`: planning/shrunk_plan.py;
  `reliability --plan` too, `plan_reliability`); `reliability` without a plan at the replicas' share (ASSUMPTION: a
  replica's throughput unchanged). A repaired unit that lets a replica back (M/G/infinity: returns from state x at the
  rate failures enter it, lambda_B P(X = x - 1), lambda_B = mu / repair time) is taken back the cheaper way: by a
  restart of its own, a planned stop of a checkpoint write and a restart (R + d, added to `goodput`'s planned
  interruptions), or at the job's next interruption's restart, the replica idle until then (its share x the mean time to
  that interruption, 1 / (1 / MTTF + planned rate)); a repair that would return the job to a slower plan (its
  smaller plan the faster, `faster_shrunk`) at that restart only (`GROW_BACK_SLOWER`), and the count of its units all
  in service it runs fastest on named (`fastest_fewer`, `faster_note`). One 8-GPU server of 2,048 waits for the next
  restart (0.05 % of the job for ~3 h against a 10-minute restart); one NVL72 domain of 8 restarts at once (12.5 %
  for ~21 h). Where no replica fits the units in service the job waits, as `wait` does (a DP-1 plan cannot shrink);
  where it never runs (e^-mu below the smallest double) one line refuses. The unit that shrinks (`shrink_unit_gpus`):
  one data-parallel replica (TP x CP x PP), times the replicas an expert-parallel group folds over (Megatron-Core:
  TP x CP x DP divisible by ETP x EP); `reliability --shrink-unit`, default one scale-up domain.

The job's goodput with the policy (`goodput_with_repairs`) = its goodput (with the grows' stops, shrink) x the share
of full-size throughput it runs at on average (wait: P(X <= s)); `train --tokens`, `plan` / `scenario` training rows
and the web's wall clock = compute time / that goodput. None (the goodput as it was, bit for bit) where the cluster is
sized by the job (an accelerator preset: its spares bought with it), the rate does not say which failures take a node
out, or P(X > s) is 0 in double precision (Llama 3's 1,024 spare servers). Repair time: facility/outage.py
(`DEFAULT_REPAIR_S`, 3 days, an ASSUMPTION [U]: no published figure).
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.facility.checkpoint_goodput import goodput
from infraplan.limits import DEFAULT_NO_SPARE_POLICY, check_policy
from infraplan.network.placement import fitting_gpus
from infraplan.units import SECONDS_PER_DAY, counted, significant_text


def plan_shrink_unit(tp: int, cp: int, pp: int, ep: int, etp: int | None) -> int:
    """The GPUs a plan sheds or regains together (module docstring): a replica of TP x CP x PP, times the fewest
    replicas g with g x TP x CP divisible by ETP x EP (ETP: TP where not given, Megatron-Core's default)."""
    experts = int(ep) * int(etp if etp is not None else tp)
    step = experts // math.gcd(experts, int(tp) * int(cp))
    return int(tp) * int(cp) * int(pp) * step


class PlanSpeed(Protocol):
    """A plan's share of its full-size tokens a second on `kept` GPUs (`planning.shrunk_plan.ShrunkSpeed`), the job's
    units in service holding `in_service` GPUs (None: as few as hold `kept`); `said`: whether the count is one a
    shrunk job runs at, which the plan's notes list (False: a count asked of the job's units all in service,
    `short_of_spares`' `fastest_fewer`)."""

    def __call__(self, kept: int, in_service: int | None = None, said: bool = True) -> float: ...


def _pmf(x: int, mean: float) -> float:
    return math.exp(x * math.log(mean) - mean - math.lgamma(x + 1))


def short_of_spares(cluster: Cluster, gpus: int, job: dict[str, Any], hold: dict[str, Any], repair_s: float,
                    policy: str, shrink_unit_gpus: int,
                    speed: PlanSpeed | None = None) -> dict[str, Any] | None:
    """The job under `policy` while its system runs out of spare units (module docstring): the spare units, the share
    of the time all the job's are in service, the mean share of full-size throughput it runs at, the goodput with the
    grows' stops and with that share (`goodput_with_repairs`); None where spares always suffice or none is known.
    `speed`: the share of full-size throughput the job's smaller plan runs at on the GPUs it keeps (a plan's:
    `planning.shrunk_plan`, its step priced again at fewer replicas and the same global batch); None: the replicas'
    share (`reliability`, which holds no plan)."""
    check_policy(policy)
    out = hold["expected_gpus_out_of_service"]
    if out is None or cluster.generic:
        return None
    size, domains = int(hold["domain_gpus"]), int(hold["domains"])
    built = cluster.total_accelerators // size
    spare = max(built - domains, 0)
    mean = built * out / (domains * size)  # units out at once in the whole system (Poisson)
    top = int(mean + 12.0 * math.sqrt(mean) + 30.0)  # poisson_cdf's reach (beyond the system's units: all out)
    if mean <= 0.0 or spare >= top:
        return None
    states = range(spare + 1, top + 1)
    tail = math.fsum(_pmf(x, mean) for x in states)
    if tail == 0.0:
        return None
    unit = max(1, min(int(shrink_unit_gpus), gpus))
    node = cluster.system.node
    laid_out = size == node.scale_up_domain  # (the hold's units are the domains the job's placement fills)

    def in_service(x: int) -> int:  # the GPUs of the job's units in service with x units out in the system
        return max(domains - max(x - spare, 0), 0) * size

    def kept(x: int) -> int:  # the GPUs a shrunk job runs on with x units out in the system
        return min(min(in_service(x), gpus) // unit * unit, gpus)

    def laid(x: int) -> int:  # of those, the most whose layout afresh fits the domains in service (hZ2 77)
        return fitting_gpus(node, kept(x), unit, in_service(x) // size) if laid_out else kept(x)

    def running(x: int) -> float:  # the job's share of full-size throughput with x units out in the system
        if x <= spare:
            return 1.0
        if policy == "wait":
            return 0.0
        if speed is None or kept(x) == 0:
            return laid(x) / gpus
        return 1.0 if laid(x) == gpus else speed(kept(x), in_service(x))

    share = 1.0 - math.fsum(_pmf(x, mean) * (1.0 - running(x)) for x in states)
    per_s = mean / repair_s  # unit failures a second in the system: Little's law on the M/G/infinity mean
    planned_per_s = job["planned_interruptions_per_day"] / SECONDS_PER_DAY
    stop_s = float(job["restart_s"]) + float(job["checkpoint_write_s"])  # a grow: a checkpoint, then a restart
    next_s = 1.0 / (1.0 / float(job["job_mttf_s"]) + planned_per_s)  # to the job's next interruption's restart
    grows = deferred = 0.0
    for x in states:  # a repair returning the job a replica: x -> x - 1 units out, at per_s x P(X = x - 1)
        gain = running(x - 1) - running(x)
        if policy == "wait" or gain == 0.0 or running(x) == 0.0:  # (a waiting job resumes: the failure's restart)
            continue
        rate = per_s * _pmf(x - 1, mean)
        if gain > 0.0 and stop_s <= gain * next_s:  # grow now, or take the replica back at the next restart
            grows += rate
        elif gain > 0.0 or GROW_BACK_SLOWER:  # (a grow that slows the job: at the next restart, a negative loss)
            deferred += rate * gain * next_s
    extra = float(goodput(job["checkpoint_interval_s"], job["checkpoint_write_s"], job["restart_s"],
                          job["job_mttf_s"], planned_per_s + grows))
    share -= deferred
    if share <= 0.0:  # (e^-mean below the smallest double: no wall clock to give)
        word = job["device_word"]
        raise InputError(f"--no-spare-policy {policy}: the job never runs (~{significant_text(mean, 3)} of its "
                         f"system's {built:,} units out at once, {spare:,} spare, shrink unit {unit:,} {word}s); "
                         f"fewer {word}s than the system's, or --no-spare-policy shrink with a smaller unit")
    return {"policy": policy, "spare_units": spare, "units": domains, "unit_gpus": size,
            "full_size_fraction": 1.0 - tail, "throughput_fraction": share, "grows_per_day": grows * SECONDS_PER_DAY,
            "shrink_unit_gpus": unit, "shrunk_plan_priced": speed is not None,
            "goodput_with_repairs": (extra if policy == "shrink" else job["goodput"]) * share,
            **_faster_fields(speed, [(running(x), kept(x)) for x in states], gpus, unit, domains * size)}


def _faster_fields(speed: PlanSpeed | None, states: list[tuple[float, int]], gpus: int, unit: int,
                   held: int) -> dict[str, tuple[float, int] | None]:
    """`faster_shrunk`: (share, kept GPUs) of the shrunk state whose smaller plan runs fastest, where it runs faster
    than the whole plan (share above 1), else None; `fastest_fewer`: then the fastest plan on fewer GPUs of the
    job's units all in service (`held` GPUs), those of the states and the counts of whole shrink units between the
    fastest state's and the job's (`FEWER_PROBED` of them at most, the largest; hZ77: gpt-oss-120b EP64 on all 576
    GPUs of gb200-nvl72-superpod, 72 a rack, 1.16x on 448 with a rack out, 1.41x on 512 with none, 64 a rack, every
    EP group inside one: the plan is slower than itself on fewer GPUs; EP32: 1.06x on 480, 1.29x on 512)."""
    faster = max((s for s in states if s[0] > 1.0), default=None)
    if faster is None or speed is None:
        return {"faster_shrunk": faster, "fastest_fewer": faster}
    counts = range(gpus - unit, faster[1], -unit)[:FEWER_PROBED]
    return {"faster_shrunk": faster, "fastest_fewer": max([faster, *((speed(k, held, False), k) for k in counts)])}


FEWER_PROBED = 8
"""The most counts of fewer GPUs `_faster_fields` prices beyond the shrunk states' (one estimate each, only where a
shrunk plan runs faster than the whole one)."""


GROW_BACK_SLOWER = True
"""hZ77: a repair after which the job would run slower (its plan on more GPUs slower than on fewer, as where it runs
faster shrunk, `faster_shrunk`) is not taken by a restart of its own, which would pay a checkpoint and a restart to
run slower, but at the job's next interruption's restart, which restarts the plan given on all its units in service
(a fixed plan's launch names every rank); until then the job keeps its smaller, faster plan (`deferred` with a
negative gain: the share it runs above the larger plan for the mean time to that restart). False: the larger plan
taken back at the repair at no cost (the base). Keeping the faster layout for good is not priced: a stationary model
prices that as the smaller plan's own run, which `faster_note` names (`fastest_fewer`) for `search --gpus` to price."""


def policy_note(short: dict[str, Any], job: dict[str, Any], device: str = "GPU") -> str:
    """What the policy charged, one line (`short_of_spares`'s dict)."""
    kept = short["goodput_with_repairs"]  # 0 where even the job's own failures leave no goodput (hU42's rate)
    clock = (f"a run's wall clock {significant_text(job['goodput'] / kept, 3)}x as long" if kept > 0 else
             "no goodput: the run never finishes")
    if short["policy"] == "wait":
        how = ("--no-spare-policy wait: the job idles while more of its system's units are out than it has spares, "
               "and resumes at full size when they are repaired")
    else:
        basis = ("each smaller plan's step priced at the same global batch, more micro-batches a replica"
                 if short["shrunk_plan_priced"] else
                 "each replica at full speed: no plan given, --plan prices its smaller plans")
        how = (f"--no-spare-policy shrink (the default): while short of spares the job restarts on the units in "
               f"service with whole shrink units of {short['shrink_unit_gpus']:,} {device}s (a data-parallel replica; "
               f"where none fits it waits), {significant_text(100.0 * short['throughput_fraction'], 3)} % of full-size "
               f"throughput on average ({basis}), a repaired replica taken back by a restart of its own (a "
               f"checkpoint and a restart; {significant_text(short['grows_per_day'], 3)} such restarts a day) where "
               f"that costs less than it idling until the job's next interruption, else at that restart")
    return (f"{how}; goodput with repairs {short['goodput_with_repairs']:.1%} against {job['goodput']:.1%} with "
            f"spares standing in: {clock} (--no-spare-policy "
            f"{'shrink' if short['policy'] == 'wait' else 'wait'} for the other policy){faster_note(short, device)}")


def faster_note(short: dict[str, Any], device: str = "GPU") -> str:
    """'; ...' where a smaller plan of the job runs faster than the whole one (`faster_shrunk`: its share of
    full-size tokens a second above 1, the GPUs it keeps), so short of spares the job gains and the goodput with
    repairs can pass 100 %; '' otherwise. hW76: gpt-oss-120b EP64 on all 576 GPUs of gb200-nvl72-superpod crosses
    domain edges (72 a rack), its 448-GPU plan (64 a rack) does not: 1.24x, 104.2 %, unsaid. hZ77: the count of
    the job's units all in service where it runs fastest (`fastest_fewer`, 512: 1.41x) named, and how the run takes
    its units back (`GROW_BACK_SLOWER`)."""
    if short.get("faster_shrunk") is None:
        return ""
    share, kept = short["faster_shrunk"]
    best, fewest = short.get("fastest_fewer") or short["faster_shrunk"]
    named = (f": {significant_text(best, 3)}x its tokens a second on {fewest:,} {device}s with all the job's units in "
             "service" if fewest != kept else "")
    return (f"; the plan runs faster shrunk: on {kept:,} {device}s its smaller plan gives "
            f"{significant_text(share, 3)}x the whole plan's tokens a second, so the job gains while short of spares "
            f"(a goodput with repairs above 100 % means a wall clock shorter than the whole plan's at full speed): "
            f"the whole plan is slower than itself on fewer {device}s{named}; the run priced is the plan given, "
            f"restarted on all its units at the job's next interruption after a repair (not by a restart of its own, "
            f"which would pay to run slower); `infraplan search --gpus {fewest:,}` prices the faster job, and a faster "
            f"plan for this {device} count may exist (`infraplan search`)")


def unused_policy_note(policy: str, cluster: Cluster, hold: dict[str, Any], short: dict[str, Any] | None,
                       device: str = "GPU") -> str | None:
    """One line where `--no-spare-policy` asked for another policy than the default's and it changed nothing
    (`short_of_spares` None: the job never runs short of spares as priced), and why; None otherwise. hW75: `wait` on
    an accelerator preset, or on 64 GPUs of the 16,384-GPU dgx-h100-superpod, answered as shrink does, unsaid."""
    if short is not None or policy == DEFAULT_NO_SPARE_POLICY:
        return None
    if hold["expected_gpus_out_of_service"] is None:
        why = "the failure rate does not say which failures take a node out of service"
    elif cluster.generic:
        why = f"an accelerator preset's system is sized by the job (the spare {device}s are bought with it)"
    else:
        size = int(hold["domain_gpus"])
        spare = max(cluster.total_accelerators // size - int(hold["domains"]), 0)
        why = (f"its system {cluster.name} holds {counted(spare, 'spare unit')} of {size:,} {device}s beyond the "
               f"job's {int(hold['domains']):,}, more than are ever out at once (the Poisson tail beyond them is 0 "
               "in double precision)")
    return (f"--no-spare-policy {policy} changed nothing: {why}, so the job is never short of spares and the "
            f"answer is the default's ({DEFAULT_NO_SPARE_POLICY})")
