"""Llama-3-405B-scale runs a year: the training capacity of a campus (`plan_campus`'s `training_capacity`).

A campus's training capacity is counted in Llama-3-405B-scale runs per year: 15.6T tokens (Llama 3 paper Sec. 3.2) at
the per-accelerator throughput `infraplan.training.estimate_training` predicts for the Llama 3 plan (TP8, PP16, V7, seq
8192, 2,048 sequences per batch, FSDP) on the paper's stack, `meta-llama3` (its rank order TP-CP-PP-DP, DP outermost,
Sec. 3.3.2; the stack the Table 4 validation cases run), at the paper's job size of 16,384 GPUs (Table 4), on the
accelerator's reference system when it holds that many, else on that system's node and a generic non-blocking Clos
(`Cluster.for_accelerator`, cluster/generic.py), times the goodput the reliability model predicts for that job size. The
runs a year are whole jobs at once (`concurrent_jobs` of the job size, each a run every `days_per_run_per_job`): the
accelerators beyond whole jobs run no run of this job (100 MW of H100: 3 jobs of 16,384, 14.8 runs a year, 15.6 before
hE74's ECMP collisions; 20.3 until 2026-12-05, hN55, counting the 14,792 beyond them at the job's rate, which
`all_accelerator_runs_per_year` keeps as the bound smaller jobs on them could add). (Until 2026-12-02 the job was capped
by the largest catalog system: 256 B200 or 512 GB300 ran the 2,048-sequence batch as 64-128 micro-batches per pipeline,
MFU 0.52-0.58 where 16,384 H100 got 0.36, and runs of 681-1,602 days. Until 2026-12-04 it ran the default stack and its
rank order TP-CP-DP-PP, a plan the paper did not run: on an NVL72 rack a stage's FSDP ranks shared the NVLink domain and
the pipeline crossed racks, GB200 433 tokens/s per GPU, MFU 0.455, where the paper's order gives 282, MFU 0.296; H100
145 (MFU 0.385), 161.3 at e01cd467.)

Split from planning/campus.py (hE, session 60: the module at the 400-line cap); campus.py keeps the names its
callers import from it.
"""

from __future__ import annotations

import shlex
from typing import Any

from infraplan.catalog import load_accelerator, load_model
from infraplan.catalog.figures import use_note
from infraplan.catalog.versioned_cache import versioned_args_cache
from infraplan.cluster import Cluster
from infraplan.cluster.cost import SECONDS_PER_YEAR
from infraplan.cluster.generic import reference_system
from infraplan.facility.failure_rate_notes import goodput_basis_note
from infraplan.facility.reliability import job_reliability
from infraplan.planning.results import TrainingCapacity
from infraplan.training.optimizer_models import checkpoint_bytes_per_param

REFERENCE_RUN_MODEL = "llama3-405b"
REFERENCE_RUN_TOKENS = 15.6e12
REFERENCE_JOB_MAX_GPUS = 16384
REFERENCE_RUN_STACK = "meta-llama3"  # the paper's stack: its rank order TP-CP-PP-DP (Sec. 3.3.2), as validated
REFERENCE_REPLICA_GPUS = 8 * 16  # TP8 x PP16: one data-parallel replica of the plan, the least job that runs it
REFERENCE_RUN_PLAN = ("TP8 PP16 V7, seq 8192, 2,048 sequences/batch, FSDP, rank order TP-CP-PP-DP on the meta-llama3 "
                      "stack (the Llama 3 paper's plan, Sec. 3.3.2)")


@versioned_args_cache(maxsize=32)
def reference_run_throughput(accelerator: str, system: str | None = None) -> dict[str, Any]:
    """The Llama 3 plan on the paper's 16,384-GPU job (`reference_run`), cached."""
    return reference_run(accelerator, REFERENCE_JOB_MAX_GPUS, system)


@versioned_args_cache(maxsize=64)
def reference_run(accelerator: str, gpus: int, named: str | None = None) -> dict[str, Any]:
    """Tokens/s per accelerator of the Llama-3-405B plan on the accelerator's reference system (cached). An
    accelerator file that `extends` a preset runs on its preset's reference system (cluster/generic.py's rule for
    a plain count) with its own figures: the system with `accelerator:` this file, as a system file saying so
    would give `train`; or on that system's node and a generic Clos (`Cluster.for_accelerator`, as `train
    --system FILE --gpus 16384`). A part with no catalog system (h800, rubin, the TPUs, most MTIA, a from-scratch
    file) runs on the generic node and Clos as `train --system PART --gpus 16384` does (cluster/generic.py; until
    2026-12-04 campus said "no catalog system ... to run the training model on" where `train` ran it, hU50).
    `gpus`: the job (a whole number of the plan's TP8 x PP16 replicas), on its system or its node's Clos. `named`:
    the system the campus was asked for (`campus --accelerator SYSTEM`, a user's file too), the cluster the job runs
    on where it holds it, as `train --system SYSTEM --gpus N` (hC72: a user's 24,576-GPU 1:7 file ran on its part's
    generic Clos)."""
    from infraplan.training.estimate import estimate_training  # the training model is only needed here

    acc = load_accelerator(accelerator)
    system = reference_system(acc.catalog_name)
    system_arg = accelerator  # the `--system` that gives `train` / `search` this cluster (hC69)
    own = Cluster.resolve(named) if named is not None else None
    if named is not None and own is not None and own.total_accelerators >= gpus:
        cluster, system_arg = own, named
    elif system is None or system.total_accelerators < gpus:
        cluster = Cluster.for_accelerator(acc, gpus)
    elif acc.name == acc.catalog_name:  # the preset itself
        cluster, system_arg = Cluster.resolve(system), system.name
    else:
        cluster = Cluster(system.model_copy(update={"accelerator": accelerator, "name": f"{system.name} with "
                                                    f"{acc.name}"}), acc)
    result = estimate_training(REFERENCE_RUN_MODEL, cluster, gpus, tp=8, pp=16, vpp=7, seq_len=8192,
                               global_batch=2048, micro_batch=1, recompute="none", zero=3, dtype="bf16",
                               stack=REFERENCE_RUN_STACK)
    if not result.fits:
        result = estimate_training(REFERENCE_RUN_MODEL, cluster, gpus, tp=8, pp=16, vpp=7, seq_len=8192,
                                   global_batch=2048, micro_batch=1, recompute="full", zero=3, dtype="bf16",
                                   stack=REFERENCE_RUN_STACK)
    return {"system": cluster.system.name, "system_arg": system_arg, "job_gpus": gpus,
            "server_accelerators": cluster.layout.accelerators_per_server,  # whose failures end the job (hN2)
            "tokens_per_s_per_gpu": result.tokens_per_s_per_gpu, "mfu": result.mfu, "fits": result.fits,
            "optimizer": result.optimizer, "memory_per_gpu_bytes": result.memory_per_gpu_bytes,
            "memory_capacity_bytes": result.memory_capacity_bytes, "error_band": result.error_band,
            "error_band_basis": result.error_band.basis if result.error_band is not None else
            "the training estimate of the reference run has no band"}


def training_capacity(accelerator: str, accelerators: int, system: str | None = None) -> TrainingCapacity:
    """Llama-3-405B-scale runs per year for a campus of `accelerators`, at the predicted goodput. The job is the
    paper's 16,384 GPUs, or on a smaller campus the most TP8 x PP16 replicas whose data-parallel count divides the
    2,048-sequence batch (a power of two: 6,432 GPUs run a 4,096-GPU job, the rest counted at its rate), timed at
    the 16,384-GPU rate (`_job_speed_note`).
    None where the plan does not fit the accelerator's memory, at 16,384 or at the campus's job, even with full
    recompute, or the campus holds less than one replica: a run that does not fit is no capacity (`reason` says
    why; until 2026-12-04 its tokens/s were counted and a job below one replica ran at a fractional DP, hL47).
    `system`: the system the campus was asked for, which runs the job where it holds it (`reference_run`)."""
    acc = load_accelerator(accelerator)
    word = acc.device_word
    replicas = accelerators // REFERENCE_REPLICA_GPUS  # whole DP ranks, a power of two dividing the 2,048 batch
    job = min(REFERENCE_JOB_MAX_GPUS, REFERENCE_REPLICA_GPUS * (1 << (replicas.bit_length() - 1))) if replicas else 0
    if job <= 0:
        return _no_capacity(f"the Llama 3 plan ({REFERENCE_RUN_PLAN}) needs {REFERENCE_REPLICA_GPUS} {word}s for one "
                            f"replica (TP8 x PP16); the campus holds {accelerators:,}", job)
    run = reference_run_throughput(accelerator, system)
    at_job = run if job == run["job_gpus"] else reference_run(accelerator, job, system)
    if not at_job["fits"]:
        return _no_capacity(f"the Llama 3 plan ({REFERENCE_RUN_PLAN}) does not fit {acc.name}'s memory on {job:,} "
                            f"{word}s even with full recompute: {at_job['memory_per_gpu_bytes'] / 2**30:.1f} GiB per "
                            f"{word} of {at_job['memory_capacity_bytes'] / 2**30:.1f} GiB, so no Llama-3-405B-scale "
                            "run is counted", job, at_job["system"])
    if not run["fits"]:  # the rate a smaller job is timed at needs the 16,384-GPU run
        return _no_capacity(f"the Llama 3 plan ({REFERENCE_RUN_PLAN}) does not fit {acc.name}'s memory on "
                            f"{run['job_gpus']:,} {word}s, the job its rate is timed at, even with full recompute: "
                            f"{run['memory_per_gpu_bytes'] / 2**30:.1f} GiB per {word} of "
                            f"{run['memory_capacity_bytes'] / 2**30:.1f} GiB, so no Llama-3-405B-scale run is counted",
                            job, run["system"])
    shape = load_model(REFERENCE_RUN_MODEL)
    params = float(shape.total_params())
    rated = acc.extends or accelerator  # a what-if: its preset's rate; a from-scratch file: its own (its catalog_name
    rel = job_reliability(rated, job, params,  # is no preset); the checkpoint at train's rate, by the model's groups
                          checkpoint_size_bytes=params * checkpoint_bytes_per_param(run["optimizer"], shape),
                          server_accelerators=at_job["server_accelerators"])
    useful_tokens_per_s = accelerators * run["tokens_per_s_per_gpu"] * rel["goodput"]
    one_job_s = REFERENCE_RUN_TOKENS / (job * run["tokens_per_s_per_gpu"] * rel["goodput"])
    return TrainingCapacity(
        available=True, model=REFERENCE_RUN_MODEL, tokens_per_run=REFERENCE_RUN_TOKENS,
        runs_per_year=accelerators // job * SECONDS_PER_YEAR / one_job_s,  # whole jobs at once (module docstring)
        all_accelerator_runs_per_year=useful_tokens_per_s * SECONDS_PER_YEAR / REFERENCE_RUN_TOKENS,
        job_gpus=job, concurrent_jobs=accelerators // job,
        days_per_run_per_job=one_job_s / 86400.0, tokens_per_s_per_gpu=run["tokens_per_s_per_gpu"],
        mfu=run["mfu"], goodput=rel["goodput"], job_mttf_s=rel["job_mttf_s"], reference_system=run["system"],
        plan=REFERENCE_RUN_PLAN,
        notes=[n for n in [plan_note(run["system_arg"], word), _past_system_note(system, run, word),
                           use_note(acc, "training", "generative-ai"),
                           goodput_basis_note(rel, job), _job_speed_note(run, job, word)] if n],
        error_band=run["error_band"], error_band_basis=run["error_band_basis"],
    )


def plan_note(system: str, word: str = "GPU") -> str:
    """Which plan the runs are counted with and why, on every accelerator (hU61, session 47: GB200 counted 281
    tokens/s per GPU where `search` finds 513 unguarded, 422 under its published-MFU ceiling, and the answer did not
    say). The paper's plan stays the yardstick: the one plan published and measured at this job size (Table 4, the
    validation cases of the meta-llama3 stack), the same work on every part; `plan`'s training services are sized
    with `search`'s best plan instead (`scenario_sizing._training_point`). `system`: the `--system` of the cluster
    the runs were priced on (`reference_run`'s `system_arg`): H100's is meta-genai-roce-24k, which holds the job,
    not `--system h100-sxm`, whose 16,384 build the generic non-blocking Clos (5.989 s a step against the runs'
    5.993 s; the note's search ran on the other fabric until hC69)."""
    search = shlex.join(["infraplan", "search", REFERENCE_RUN_MODEL, "--system", system, "--gpus",
                         str(REFERENCE_JOB_MAX_GPUS), "--seq-len", "8192", "--global-batch", "2048", "--dtype", "bf16"])
    return (f"runs counted with the Llama 3 paper's plan on every accelerator ({REFERENCE_RUN_PLAN}): the one plan "
            "published and measured at this job size (Table 4), so every campus counts the same job; not this "
            f"{word}'s best plan: a larger scale-up domain (an NVL72 rack) or a narrower format runs it "
            f"faster under a searched plan (`{search}`, ranked under its published-MFU ceiling), as `plan` sizes "
            "its training services")


def _past_system_note(named: str | None, run: dict[str, Any], word: str = "GPU") -> str | None:
    """Where the system the campus was asked for holds fewer accelerators than the job its runs are timed at, the
    cluster they run on instead (`reference_run`: the part's reference system, else its node on a generic
    non-blocking Clos), as facility's `system_count_note` says past a system's size (hN72); None where it ran on
    it, or none was named."""
    if named is None or run["system_arg"] == named:
        return None
    held = Cluster.resolve(named).total_accelerators
    return (f"the {run['job_gpus']:,}-{word} job is more than the {held:,} {word}s of {named}: its runs are counted "
            f"on {run['system']}, as `train --system {run['system_arg']} --gpus {run['job_gpus']}` runs it, not on "
            f"{named}'s own tiers")


def _no_capacity(reason: str, job: int, system: str | None = None) -> TrainingCapacity:
    """No Llama-3-405B-scale run on the campus, and why (`training_capacity`)."""
    return TrainingCapacity(available=False, reason=reason, model=REFERENCE_RUN_MODEL,
                            tokens_per_run=REFERENCE_RUN_TOKENS, job_gpus=job or None, reference_system=system,
                            plan=REFERENCE_RUN_PLAN, error_band_basis="no run: no throughput to band")


def _job_speed_note(run: dict[str, Any], job: int, word: str = "GPU") -> str | None:
    """What a job smaller than the reference one is timed at (module docstring: the paper's 16,384-GPU job), in
    the part's word (`Accelerator.device_word`: "per GPU" on an ASIC read wrong, hU50)."""
    if job >= run["job_gpus"]:
        return None
    return (f"the {job:,}-{word} job is timed at the {run['tokens_per_s_per_gpu']:.1f} tokens/s per {word} (MFU "
            f"{run['mfu']:.2f}) of the Llama 3 plan on {run['job_gpus']:,} {word}s (Table 4's job size), not its "
            f"own: `infraplan train` on {job:,} {word}s prices fewer data-parallel ranks and more micro-batches per "
            "pipeline")
