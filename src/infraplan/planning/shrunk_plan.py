"""The speed of a plan shrunk to fewer data-parallel replicas (`--no-spare-policy shrink`), priced by the step model.

A job that restarts on fewer DP replicas keeps its global batch and gives each replica more micro-batches: Megatron-LM
sizes the micro-batches a step from the global batch (megatron/core/num_microbatches_calculator.py,
`ConstantNumMicroBatchesCalculator`: global batch // (micro-batch x DP)), NeMo and Megatron-Bridge read the same
`global_batch_size`, and torchtitan's `training.global_batch_size` sets its gradient accumulation steps from it. So
the smaller plan's step is not the full plan's at its share of replicas: its pipeline runs more micro-batches (the
bubble a smaller share of the step), its DP all-reduce spans fewer ranks, and where the global batch does not divide
over the replicas left (576 sequences over 63 replicas) the replicas given the most micro-batches set the step
(ASSUMPTION: the batch split as evenly as whole micro-batches allow, ceil(global batch / (micro-batch x DP)) on the
busiest; Megatron-Core itself refuses a global batch not divisible by micro-batch x DP, so a restart at that DP runs
ceil x micro-batch x DP sequences' step for the global batch's).

`shrunk_speed` returns the share of the full plan's tokens a second that the job runs at on `kept` GPUs: the same
`training.estimate.estimate_training` train prices (every axis of the plan as resolved, DP and the global batch
aside), once for each replica count (cached): at the busiest replica's micro-batches with the plan's virtual stages
and schedule, with those train chooses at that batch (an interleave whose rule the new count breaks: Megatron-Core
wants micro-batches a multiple of PP, `training.schedule_models`), and at the next multiple of PP, the fastest
taken; and on the GPUs the full job's layout keeps (`_as_laid`: its placement units on the domains in service,
priced at that placement, `Cluster.laid_as`; hZ2 77: before, the count was priced laid out afresh),
where that is faster than the larger count laid out afresh (a restart may leave GPUs idle; hE2 76). Where all are
refused (a schedule or memory rule at its micro-batches), the replicas' share (the assumption hR74 made for every
state) and `refused` counts it. A deep pipeline pays for it: llama3-405b TP8 PP16 VPP4 DP128 on
dgx-h100-superpod at a global batch of 2,048 runs at 0.624 of full speed on 127 replicas (17 micro-batches: 1F1B,
the interleave refused at 17; 32 interleaved: 0.508).
"""

from __future__ import annotations

import math
from typing import Any

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import System
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.facility.reliability import reliability_report
from infraplan.facility.results import ReliabilityReport
from infraplan.facility.spare_policy import plan_shrink_unit
from infraplan.network.placement import domains_needed, fitting_gpus, gpus_laid_as, job_placement_unit
from infraplan.training.estimate import estimate_training
from infraplan.training.optimizer_models import checkpoint_bytes_per_param
from infraplan.units import significant_text


class ShrunkSpeed:
    """Callable (`facility.spare_policy.PlanSpeed`): kept GPUs, and the GPUs of the job's units in service whose
    domains a layout afresh fits (hZ77) -> the share of the full plan's tokens a second (module docstring);
    `refused`: the replica counts whose smaller plan the step model refused, priced at the replicas' share."""

    def __init__(self, model: str | TransformerShape, system: str | System | Cluster, config: Any,
                 tokens_per_s: float, *, stack: str | None, sharp: bool = False, optimizer: str | None = None,
                 lora_rank: int | None = None, lora_targets: str | None = None, dsa_stage: str | None = None) -> None:
        self.model, self.system, self.config, self.given = model, system, config, float(tokens_per_s)
        self.full: float | None = None
        self.stack, self.sharp, self.optimizer, self.dsa_stage = stack, sharp, optimizer, dsa_stage or "sparse"
        self.lora_rank, self.lora_targets = lora_rank, lora_targets
        self.cache: dict[tuple[int, int], float] = {}  # (replicas, the placement unit priced) -> share
        self.refused: list[int] = []
        self.fewer: dict[int, tuple[int, float]] = {}  # kept GPUs -> (the fewer a restart runs on, x faster)
        self.unit: int | None = None  # the full job's placement unit (`_as_laid`)
        self.unfit: dict[int, int] = {}  # kept GPUs -> the fewer a layout afresh fits on their domains (`_fitting`)
        self.node: Any = None

    def __call__(self, kept: int, in_service: int | None = None, said: bool = True) -> float:
        """`in_service`: the GPUs of the job's units in service, whose scale-up domains a layout afresh must fit
        (`_fitting`; None: as few as hold `kept`); `said`: a count a shrunk job runs at, which `fewer_note` lists."""
        c = self.config
        replica = int(c.tp) * int(c.cp) * int(c.pp)
        kept = min(int(kept), int(c.gpus))
        replicas = kept // replica
        node = self._node()
        domain = node.scale_up_domain
        domains = -(-kept // domain) if in_service is None else max(int(in_service) // domain, -(-kept // domain))
        if replicas >= int(c.dp) and (in_service is None or domains_needed(node, int(c.gpus)) <= domains):
            return 1.0  # (all its GPUs, and the domains its layout holds: hZ2 77, 480 GPUs hold 8 racks, not 7)
        if replicas <= 0:
            return 0.0
        laid = self._as_laid(kept, domains) // replica
        fresh = self._fitting(replicas, replica, domains)
        if fresh < replicas and said:  # (fewer where all of them laid afresh need more domains)
            self.unfit[replicas * replica] = fresh * replica
        fresh_share, laid_share = self._priced(fresh, None), self._priced(laid, self.unit)
        if laid and fresh == replicas and laid_share > fresh_share and said:  # (fewer GPUs, faster)
            self.fewer[replicas * replica] = (laid * replica, laid_share / fresh_share)
        return max(fresh_share, laid_share)

    def _priced(self, replicas: int, unit: int | None) -> float:
        """`_share` of `replicas` laid out afresh (`unit` None) or at the full job's placement `unit` (`_as_laid`),
        cached by the placement unit it prices (one estimate where the two coincide); 0 for none."""
        if replicas <= 0:
            return 0.0
        gpus = replicas * int(self.config.tp) * int(self.config.cp) * int(self.config.pp)
        placed = job_placement_unit(self._node(), gpus) if unit is None else (unit if gpus > unit else 0)
        key = (replicas, placed)
        if key not in self.cache:
            self.cache[key] = self._share(replicas, None if unit is None else placed)
        return self.cache[key]

    def _fitting(self, replicas: int, replica: int, domains: int) -> int:
        """The most replicas, at most `replicas` and in whole shrink units, whose layout afresh
        (`network.placement.job_placement_unit`, as `estimate_training` prices it) fits the scale-up domains the
        job's units in service hold (`domains`: floor(in service / domain), at least ceil(kept / domain); where only
        the kept GPUs are known, ceil(kept / domain), exact where the shrink unit is at most a domain and fewer than
        are in service where it is larger: hZ77, llama3-70b TP8 PP20 on 320 GPUs of gb200-nvl72-superpod, 4 racks in
        service keep 160, one replica, which --segment 10 lays on 4 racks, not the 3 that ceil(160 / 72) gave, so
        the job was priced idle there); 0 where none does. hT76: a 512-GPU job shrunk to 480 on 7 of its 8 racks was
        priced at NeMo's --segment 15 (60 GPUs a rack), 8 racks' worth."""
        step = plan_shrink_unit(self.config.tp, self.config.cp, self.config.pp, self.config.ep, self.config.etp)
        return fitting_gpus(self._node(), replicas * replica, max(step, replica), domains) // replica

    def _node(self) -> Any:
        if self.node is None:
            self.node = Cluster.resolve(self.system).system.node
        return self.node

    def _as_laid(self, kept: int, domains: int) -> int:
        """The GPUs of `kept` in whole placement units of the full job (`network.placement.job_placement_unit`, 64
        a rack under NeMo's GB200 launcher at 512 GPUs), in whole shrink units: the full job's layout on fewer
        domains, which a restart may take over a larger count laid out otherwise (hE2 76: deepseek-v3 EP32 on 7
        racks in service, 480 GPUs would take --segment 15, 60 a rack, its EP groups across rack edges, 2.1x the
        step of 448 at 64 a rack; a restart may always leave GPUs idle). At most max(D // unit, 1) units on each of
        the `domains` in service (hZ2 77: a 480-GPU job's 60 a rack on 7 racks, 420, not 480); `_priced` prices the
        count at this unit. 0 where nothing is laid out."""
        c = self.config
        if self.unit is None:
            self.unit = job_placement_unit(self._node(), int(c.gpus))
        if not self.unit:
            return 0
        step = plan_shrink_unit(c.tp, c.cp, c.pp, c.ep, c.etp)
        return gpus_laid_as(self._node(), self.unit, kept, domains) // step * step

    def fewer_note(self, device: str = "GPU") -> str | None:
        """One line where a shrunk restart runs on fewer GPUs than it keeps: faster (`_as_laid`), or all of them laid
        afresh need more scale-up domains than are in service (`_fitting`); None otherwise."""
        said = [f"shrunk, the job restarts on the full job's {self.unit} {device}s a scale-up domain where that is "
                f"faster than on all the {device}s it keeps placed afresh, whose groups cross domain edges the full "
                f"plan's do not (network.placement): {device}s run of those kept (x the tokens a second): " + ", ".join(
                    f"{laid:,} of {kept:,} ({significant_text(gain, 3)}x)"
                    for kept, (laid, gain) in sorted(self.fewer.items(), reverse=True))] if self.fewer else []
        if self.unfit:
            said.append(f"all the {device}s a shrunk job keeps, placed afresh (network.placement), need more scale-up "
                        f"domains than are in service, so at most these run, or the full job's placement if faster: "
                        + ", ".join(f"{fit:,} of {kept:,}" for kept, fit in sorted(self.unfit.items(), reverse=True)))
        return "; ".join(said) or None

    def _share(self, replicas: int, unit: int | None = None) -> float:
        """The share of the full plan's tokens a second on `replicas` (module docstring), laid out afresh or, with
        `unit`, at that placement unit (the full job's, `_as_laid`; 0: inside one domain)."""
        c = self.config
        if self.full is None:  # the full plan by the same call (its tokens a second as the search or train gave)
            self.full = self._tokens_per_s(int(c.dp), int(c.global_batch)) or self.given
        batch, micro = int(c.global_batch), int(c.micro_batch)
        busiest = math.ceil(batch / (micro * replicas))  # micro-batches on the busiest replica
        rounded = math.ceil(busiest / int(c.pp)) * int(c.pp)  # (the interleave's m a multiple of PP)
        shares = []
        for m, same in dict.fromkeys(((busiest, True), (busiest, False), (rounded, True))):
            stepped = replicas * micro * m  # the sequences of the step the busiest replica sets
            tokens = self._tokens_per_s(replicas, stepped, same, unit)
            if tokens is not None:
                shares.append(tokens * batch / stepped / self.full)  # the global batch's tokens a step
        if shares:
            return max(shares)  # the restart takes the fastest of them
        self.refused.append(replicas)
        return replicas / int(c.dp)

    def _tokens_per_s(self, replicas: int, batch: int, same: bool = True, unit: int | None = None) -> float | None:
        """`same`: the plan's virtual stages and schedule; else those train chooses at this batch. `unit`: the
        placement unit the ranks are laid at (`Cluster.laid_as`; None: afresh, as train lays this count)."""
        c = self.config
        system = self.system if unit is None else Cluster.resolve(self.system).laid_as(unit)
        shard = int(c.zero_shard)  # hybrid sharding kept where its group still divides DP x CP
        shard_at = None if shard in (0, int(c.dp) * int(c.cp)) or (replicas * int(c.cp)) % shard else shard
        try:
            est = estimate_training(
                self.model, system, replicas * int(c.tp) * int(c.cp) * int(c.pp), tp=c.tp, pp=c.pp,
                dp=replicas, cp=c.cp, ep=c.ep, vpp=c.vpp if same else None, seq_len=c.seq_len, global_batch=batch,
                micro_batch=c.micro_batch, recompute=c.recompute, zero=c.zero, dtype=c.dtype, attention=c.attention,
                order=c.order, sequence_parallel=c.sequence_parallel, schedule=c.schedule if same else None,
                etp=c.etp,
                recompute_layers=c.recompute_layers, offload_layers=c.offload_layers, zero_shard=shard_at,
                stack=self.stack, sharp=self.sharp, optimizer=self.optimizer, lora_rank=self.lora_rank,
                lora_targets=self.lora_targets, dsa_stage=self.dsa_stage)
        except InputError:
            return None
        return float(est.tokens_per_s)


def shrunk_speed(estimate: Any, system: str | System | Cluster, shape: TransformerShape | None = None,
                 sharp: bool = False) -> ShrunkSpeed:
    """`ShrunkSpeed` of a `TrainingEstimate` (its plan, stack, optimizer, adapters and DSA stage as train priced
    them; `shape`: the model, else the estimate's by its name; `sharp`: `train --sharp`, which the estimate does not
    record)."""
    return ShrunkSpeed(shape if shape is not None else estimate.model, system, estimate.config,
                       float(estimate.tokens_per_s), stack=estimate.stack, sharp=sharp, optimizer=estimate.optimizer,
                       lora_rank=estimate.lora_rank, lora_targets=estimate.lora_targets, dsa_stage=estimate.dsa_stage)


PLAN_NOT_TAKEN = ("model", "system", "gpus", "optimizer", "tokens", "location", "server_price", "costs", "eval_every",
                  "eval_samples", "no_spare_policy")
"""train's inputs `reliability --plan` (CLI: train's flags; web: a train body's fields) refuses: the job's own,
reliability's, or a whole run's."""


RELIABILITY_MODEL = "llama3-405b"
"""`reliability`'s model where none is given (its checkpoint's size): `reliability_report`'s default."""


def check_plan_model(given: bool, flag: str) -> None:
    """`reliability --plan` without the job's model refused in one line: train's plan is a model's, and
    reliability's default model (`RELIABILITY_MODEL`: a checkpoint's size) priced it unsaid (hV75)."""
    if not given:
        raise InputError(f"--plan prices the plan of the job's model: give {flag} (reliability's default, "
                         f"{RELIABILITY_MODEL}, sizes a checkpoint without --plan)")


def plan_reliability(estimate: Any, system: str | System | Cluster, *, sharp: bool = False,
                     shrink_unit_gpus: int | None = None, **options: Any) -> ReliabilityReport:
    """`reliability --plan`: `facility.reliability.reliability_report` (its `options`) of the job `estimate`'s plan
    runs, shrunk as `train --tokens` shrinks it: by the plan's replica (`plan_shrink_unit`) at its smaller plans'
    speed (`shrunk_speed`), so both commands give one goodput with repairs for one job. A LoRA run or a DSA warm-up
    is refused: its checkpoint holds the adapters or the indexer alone (`training_run.checkpointed_params`), which
    `reliability --model` does not size."""
    c = estimate.config
    unit = plan_shrink_unit(c.tp, c.cp, c.pp, c.ep, c.etp)
    if shrink_unit_gpus is not None and shrink_unit_gpus != unit:
        raise InputError(f"--shrink-unit {shrink_unit_gpus:,}: the plan sheds {unit:,} GPUs together (one data-"
                         f"parallel replica, TP{c.tp} x CP{c.cp} x PP{c.pp}); give one or the other")
    if getattr(estimate, "trainable_params_count", None) is not None:
        raise InputError("--plan with --lora-rank or --dsa-stage warmup: the run's checkpoint holds the adapters or "
                         "the indexer alone, which reliability does not size; train --tokens prices that run")
    if options.get("checkpoint_size_bytes") is None:  # the optimizer the plan steps with (--optimizer, else its
        # stack's recipe's, as train's: Kimi K2's Muon) sizes the checkpoint, as train --tokens sizes it
        per = checkpoint_bytes_per_param(estimate.optimizer, options.get("model"))
        options = {**options, "optimizer": estimate.optimizer, "checkpoint_bytes_per_param": per}
    return reliability_report(system, int(c.gpus), shrink_unit_gpus=unit, speed=shrunk_speed(estimate, system,
                                                                                             sharp=sharp), **options)
