"""The accelerators a serving deployment holds where its TP groups do not divide the scale-up domain (hT, session 73).

Placement. A replica's TP group runs its all-reduces (and, with attention DP, its ranks' expert all-to-all) inside
one scale-up domain: vLLM runs tensor parallelism inside a node and pipeline parallelism across nodes (its
distributed-serving guide, docs.vllm.ai "Distributed inference and serving", sets the tensor parallel size to the
GPUs in a node and the pipeline parallel size to the nodes; vllm/distributed/parallel_state.py's
`initialize_model_parallel` puts TP innermost; both as recalled in `serving.pipeline_hops`, not re-read here),
SGLang spans nodes only when launched with `--nnodes` (server_args.py), and every serving iteration here prices
the TP all-reduce and the EP all-to-all of a group of at most D accelerators inside one domain
(`network.collectives`; `serving.pipeline_hops`: "replicas of at most D GPUs pack into a domain without straddling
its edge"). So the unit placed is one pipeline stage's group, u = TP x attention DP accelerators, and a
domain of D accelerators holds k = D // u of them. Where u divides D (TP 1, 2, 4, 8 on 8-GPU nodes, TP 8 or 24 on
NVL72's 72) nothing is left over and the deployment holds its own accelerators, as before. Where it does not (TP 3,
5, 6, 7 on 8-GPU nodes, TP 16 on NVL72, TP 8 on MTIA v1's 12), a domain holding k groups keeps D - k u accelerators
that no group of the deployment fits in: idle, and held with the domain (the node is bought or rented whole; its
idle accelerators draw idle and host power). The last domain, holding fewer than k groups, keeps room for another
group and holds only its groups, as a TP 4 deployment on 4 of a node's 8 GPUs holds 4.

    held = (groups // k) x D + (groups % k) x u,   groups = accelerators / u

2 x TP6 on dgx-h100's 8-GPU nodes: 2 domains, 16 held, 4 idle (a second replica on GPUs 6-11 would run its
all-reduces across two nodes' NICs); 1 x TP6: 8 held; 2 x TP3: 8 held (2 idle); 3 x TP3: 11 held; 5 x TP16 on
NVL72: 88 held (one rack's 64 + 8 idle, then 16). A group of more than D accelerators spans domains, priced across
them (`serve_inputs.tp_span_note`) and counted as its own accelerators, as before. `serve` and `serve-plan` count
the held accelerators in cost, power and per-accelerator figures (`serving_sim`'s `held_gpus`), report them
(`gpus_held`) and say why (`idle_note`); serve-plan ranks its options by them (`replica_search`), so a TP that
strands accelerators wins only where it still needs fewer.

Disaggregated pools (hT74). A prefill worker and a decode worker may share a node: vLLM's disaggregated-prefill
example starts its KV producer and consumer on GPUs 0 and 1 of one host (examples/online_serving/
disaggregated_prefill.sh, CUDA_VISIBLE_DEVICES), SGLang's PD guide launches `--disaggregation-mode prefill` and
`--disaggregation-mode decode --base-gpu-id 1` on one node, and Dynamo's disaggregated launch scripts put a decode
and a prefill worker on GPUs of one node (as recalled, not re-read here). So pools of one unit pack together, and
pools of two units share domains where that holds fewer: the larger groups first, k_L = D // L a domain, then the
smaller ones into the room they leave (first fit, the way a scheduler bin-packs), then domains of their own; a
domain whose room fits no further group of a unit it holds is held whole (the one-unit rule above). The held count
is the fewer of that and the pools packed apart: decode 2 x TP6 beside prefill 2 x TP2 on 8-GPU nodes holds 16
(each node TP6 + TP2), where apart they held 16 + 4 = 20. One function places the workers (`place_pools`): the
held count is read off it, and `serving.kv_handoff` reads each worker's domain off the same placement (hT75; until
then a closed form, `shared_gpus`, counted what `kv_handoff`'s own first fit placed: equal on 306,336 two-pool
cases, domains 4 to 72, and removed).

Replicas (hK74). A replica of PP stage groups is placed at the first group slot where it crosses no more domain
edges than its PP groups need (ceil(PP / k) - 1; `aligned_gpus`): a replica whose groups fit one domain sits whole in
one (an engine instance of at most a node's GPUs runs its ranks on one host: vLLM's multiprocessing executor, an
SGLang server without --nnodes; one spanning nodes is launched over whole nodes, as recalled, not re-read here), and
`serving.pipeline_hops` prices every replica's hops as that of a replica starting at a domain edge, which crosses as
many. Until hK74 the groups were packed back to back, so TP2 PP3 x 2 on 8-GPU nodes put the second replica on GPUs
6-11 (stages 3 | 4, 5: one hop over the NICs, priced as none); now it sits on the second node, holding 12 either way.
Where the group divides the domain, or a domain holds at most 2 groups (every stranding TP on 8-GPU nodes), the held
count is the back-to-back packing's; otherwise a domain a replica skipped keeps room for a group and holds only its
own (the last-domain rule above): 2 x TP16 PP3 on NVL72 holds 96 (48 + 48) where back to back held 104 (72 + 32).
The disaggregated shared packing (`place_pools`, two units) places groups, not replicas, so pools of PP > 1 are
held apart (hV74): shared, decode TP6 PP2 beside prefill TP2 PP2 on 8-GPU nodes held 32 for 2 + 2 replicas (each node
a TP6 and a TP2 stage group), which puts each prefill replica's two stages on two nodes while `serving.pipeline_hops`
priced its hop inside one; apart they hold 40, as the hop is priced.
"""

from __future__ import annotations

from collections.abc import Sequence

from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.serving.deployment import Deployment


def strands(unit: int, domain: int) -> bool:
    """Whether groups of `unit` leave some of a domain of `domain` idle: a group within the domain that does not
    divide it (a group larger than the domain spans domains, counted as its own accelerators)."""
    return 0 < unit <= domain and domain % unit != 0


def packed_gpus(gpus: int, unit: int, domain: int) -> int:
    """The accelerators `gpus` in groups of `unit` hold on scale-up domains of `domain` (module docstring)."""
    if not strands(unit, domain):
        return gpus
    full, rest = divmod(gpus // unit, domain // unit)
    return full * domain + rest * unit


def replicas_within(limit: int, gpus_per_replica: int, unit: int, domain: int) -> int:
    """The most replicas of `gpus_per_replica` (PP stage groups of `unit`) whose held accelerators stay within
    `limit`, each placed as `aligned_gpus` places it (the count serve-plan's options are held at,
    `replica_search.SearchJob.gpus`): the replicas are added one at a time until the next would pass the limit.
    Until session 75 this counted the groups packed back to back (`packed_gpus`), more than the aligned placement
    holds for some PP > 1 layouts on 16- to 72-accelerator domains (TP 20 PP 2 on NVL72: 2 replicas hold 80, back
    to back 92), so serve-plan's replica limit fell short of what its options hold. One-group replicas (PP 1) take
    the closed form of their back-to-back packing, the same placement."""
    if not strands(unit, domain):
        return limit // gpus_per_replica
    pp, per = gpus_per_replica // unit, domain // unit
    if pp == 1:  # fast path (4.6 ms a call walked at 16,384 GPUs of TP 3): one-group replicas never cross an edge,
        full = limit // domain  # so they pack back to back, `packed_gpus` (tests/serving/test_one_packing_hT75.py)
        return full * per + min(per - 1, (limit - full * domain) // unit)
    used: dict[int, int] = {}  # groups per domain
    held = replicas = cursor = 0
    while True:
        start = _start_at(cursor, pp, per)
        for slot in range(start, start + pp):
            g = used.get(slot // per, 0)  # a domain's groups hold g x unit, all `per` of them the whole domain
            held += unit if g + 1 < per else domain - g * unit
            used[slot // per] = g + 1
        if held > limit:
            return replicas
        replicas, cursor = replicas + 1, start + pp


def _start_at(cursor: int, pp: int, per: int) -> int:
    """The group slot a replica of `pp` stage groups starts at, `per` slots a domain, the next free one `cursor`:
    there, unless it would cross more domain edges than its groups need (ceil(pp / per) - 1), the next domain's
    edge (module docstring, "Replicas")."""
    return cursor + (per - cursor % per if (cursor % per + pp - 1) // per > -(-pp // per) - 1 else 0)


def replica_starts(pools: Sequence[tuple[int, int]], unit: int, domain: int) -> list[int]:
    """The group slot (domain d's slots d k .. d k + k - 1, k = D // unit) each replica of (count, PP) stage groups
    of `unit`, pool after pool, starts at: the first free one at which it crosses no more domain edges than its PP
    groups need, ceil(PP / k) - 1 (module docstring, "Replicas"); `unit` within the domain."""
    per = domain // unit
    starts: list[int] = []
    cursor = 0  # the next free group slot
    for replicas, pp in pools:
        for _ in range(replicas):
            starts.append(_start_at(cursor, pp, per))
            cursor = starts[-1] + pp
    return starts


def aligned_gpus(pools: Sequence[tuple[int, int]], unit: int, domain: int) -> int:
    """The accelerators replicas of (count, PP) stage groups of `unit`, pool after pool, hold placed at
    `replica_starts`: a domain held whole unless its room fits a further group (module docstring, "Replicas").
    A group dividing the domain strands nothing, so the replicas hold their own; one pool is counted a period of its
    placement at a time (`_one_pool_held`): serve-plan asks it of each option's replica bound, millions of replicas
    at a rate no limit admits (hW77: `serve-plan --rate 1e8` took 133 s here to say none fits 8 GPUs)."""
    if unit > domain or not strands(unit, domain):  # a group spanning domains, or one dividing it: its own
        return sum(n * pp * unit for n, pp in pools)
    if len(pools) == 1:
        return _one_pool_held(pools[0][0], pools[0][1], unit, domain)
    per = domain // unit
    used: dict[int, int] = {}  # groups per domain
    pps = [pp for replicas, pp in pools for _ in range(replicas)]
    for start, pp in zip(replica_starts(pools, unit, domain), pps, strict=True):
        for slot in range(start, start + pp):
            used[slot // per] = used.get(slot // per, 0) + 1
    return sum(g * unit if g < per else domain for g in used.values())


def _one_pool_held(replicas: int, pp: int, unit: int, domain: int) -> int:
    """`aligned_gpus` of one pool of `replicas` x `pp` groups, walked replica by replica until the next free slot's
    place in its domain repeats, then that period's domains counted at once: where a replica starts depends only on
    that place (`_start_at`), and the slots below the next free one in its domain are all used (a replica skips only
    to a domain edge), so each period fills the same domains alike. At most `domain // unit` replicas are walked."""
    per = domain // unit

    def held(used: int) -> int:
        return used * unit if used < per else domain

    cursor = done = placed = 0  # next free slot; accelerators of the domains left behind; replicas placed
    seen: dict[int, tuple[int, int, int]] = {}
    while placed < replicas:
        if cursor % per in seen:  # a period: (placed, cursor, done) then and now
            then = seen.pop(cursor % per)
            periods = (replicas - placed) // (placed - then[0])
            placed, cursor, done = (placed + periods * (placed - then[0]), cursor + periods * (cursor - then[1]),
                                    done + periods * (done - then[2]))
            seen.clear()
            continue
        seen[cursor % per] = (placed, cursor, done)
        start = _start_at(cursor, pp, per)
        end = start + pp
        for d in range(cursor // per, end // per):  # the domains this replica leaves behind
            low, high = max(start, d * per), min(end, (d + 1) * per)
            done += held((cursor - d * per if d == cursor // per else 0) + max(0, high - low))
        cursor, placed = end, placed + 1
    return done + (held(cursor % per) if cursor % per else 0)


def stage_unit(dep: Deployment) -> int:
    """The accelerators of one pipeline stage's group, placed inside one domain: TP x attention DP."""
    return dep.tp * dep.attention_dp


def place_pools(pools: Sequence[Deployment], domain: int) -> tuple[list[list[int]], int]:
    """The one placement of pools sharing domains (module docstring, "Disaggregated pools"): per pool, the domain
    each of its workers (one group of TP x attention DP at PP 1) sits in, -1 for a worker of PP > 1 or of a group
    spanning domains (its own accelerators, not placed); and the accelerators the placement holds. The larger
    groups first, each in the first domain with room (D // L a domain, then the smaller ones into the room those
    leave, then domains of their own), pool order among groups of one size; a domain is held whole unless its room
    fits a further group of the smallest unit it holds. `held_gpus` reads the shared count off it and
    `kv_handoff.worker_domains` the workers' domains."""
    room: list[int] = []  # free accelerators per domain opened
    smallest: list[int] = []  # the smallest group each holds
    placed: list[list[int]] = [[-1] * dep.replicas for dep in pools]
    order = sorted((i for i, dep in enumerate(pools) if dep.pp == 1 and stage_unit(dep) <= domain),
                   key=lambda i: -stage_unit(pools[i]))  # the larger groups first, pool order among equals
    for i in order:
        unit = stage_unit(pools[i])
        first = 0  # the first domain with room for a group of this size
        for w in range(pools[i].replicas):
            while first < len(room) and room[first] < unit:  # a domain full for this size is full for later ones
                first += 1
            if first == len(room):
                room.append(domain)
                smallest.append(unit)
            room[first] -= unit
            smallest[first] = unit  # the groups come larger first
            placed[i][w] = first
    held = sum(domain - free if free >= unit else domain for free, unit in zip(room, smallest, strict=True))
    return placed, held + sum(dep.gpus for i, dep in enumerate(pools) if i not in order)


def held_gpus(pools: Sequence[Deployment], domain: int) -> int:
    """The accelerators the pools (one deployment, or a disaggregated pair's prefill and decode pools) hold: pools of
    one unit pack together, two units of PP 1 share domains where that holds fewer (module docstring)."""
    by_unit: dict[int, int] = {}
    for dep in pools:
        by_unit[stage_unit(dep)] = by_unit.get(stage_unit(dep), 0) + dep.gpus
    apart = sum(aligned_gpus([(d.replicas, d.pp) for d in pools if stage_unit(d) == unit], unit, domain)
                for unit in by_unit)
    inside = sorted((unit, gpus // unit) for unit, gpus in by_unit.items() if unit <= domain)
    if len(inside) != 2 or not any(strands(unit, domain) for unit, _ in inside) or any(d.pp > 1 for d in pools):
        return apart  # (place_pools places groups: a PP > 1 replica's stages on two domains, hops priced inside one)
    return min(apart, place_pools(pools, domain)[1])


def idle_note(pools: Sequence[Deployment], domain: int, word: str) -> str | None:
    """Why the deployment holds more accelerators than its replicas use, else None."""
    held = held_gpus(pools, domain)
    gpus = sum(dep.gpus for dep in pools)
    if held <= gpus:
        return None
    layouts = {stage_unit(d): f"TP {d.tp}" + (f" x attention DP {d.attention_dp}" if d.attention_dp > 1 else "")
               for d in pools if strands(stage_unit(d), domain)}
    groups = "; ".join(f"{layout}: a domain holds {domain // u} group{'s' if domain // u > 1 else ''} of {u} and "
                       f"leaves {domain % u} idle" for u, layout in sorted(layouts.items()))
    shared = ("; the prefill groups share domains with the decode groups where that holds fewer (vLLM, SGLang PD, "
              "Dynamo run both roles on one node)" if len({stage_unit(d) for d in pools}) == 2 and held < sum(
                  aligned_gpus([(dep.replicas, dep.pp)], stage_unit(dep), domain) for dep in pools) else "")
    return (f"a TP group stays inside one {domain}-{word} scale-up domain, its all-reduces over the scale-up links "
            f"(vLLM, SGLang run TP inside a node; across two domains they would cross the NICs): {groups}{shared}; "
            f"the replicas' {gpus:,} {word}s hold {held:,}, {held - gpus:,} idle, counted in the cost, power and "
            f"per-{word} figures (gpus_held); a TP x attention DP dividing {domain} leaves none")


def held_field(held: int | None, gpus: int) -> dict[str, int]:
    """A result deployment's `gpus_held` where it holds more accelerators than its replicas' `gpus` (else none:
    the JSON of a deployment that fills its domains is as before)."""
    return {"gpus_held": held} if held is not None and held > gpus else {}


def placed(pools: Sequence[Deployment], cluster: Cluster) -> tuple[int, str | None]:
    """(the accelerators `serve`'s pools hold on the cluster's scale-up domains, the note saying why where that is
    more than their own); one InputError line where the system has fewer."""
    domain, word = cluster.fabric.scale_up_domain, cluster.accelerator.device_word
    held, gpus = held_gpus(pools, domain), sum(dep.gpus for dep in pools)
    if held > gpus and held > (room := cluster.for_gpus(held).total_accelerators):
        raise InputError(f"--gpus {gpus:,}: its TP groups of {', '.join(str(stage_unit(d)) for d in pools)} {word}s "
                         f"hold {held:,} {word}s on {domain}-{word} scale-up domains (a group inside one domain), "
                         f"beyond the {room:,} of system {cluster.name}; give a TP dividing {domain}")
    return held, idle_note(pools, domain, word)
