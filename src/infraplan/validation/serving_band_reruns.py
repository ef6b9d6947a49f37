"""The serving rows behind the error bands re-run on a shipped serving profile as shipped: the band of a `serve`
answer on that profile (`catalog.error_bands`, "Default stack"; hB41 for trtllm-0.x, hV45 for vllm-0.x and
sglang-0.x).

A serving row's own residual is priced on the settings its campaign ran (its release YAML, AIConfigurator's
engine limits, SGLang's mixed chunk, Dynamo's KV fraction and front end, MTP drafts), while `serve --stack NAME`
answers on the profile NAME as shipped. The band of such an answer is built from rows re-run on that profile: the
row's question as `serve` takes it (model, GPUs, TP / PP / EP / attention DP, workers of each pool, precision,
lengths, clients) on the profile's engine settings (`shipped_profile`); the client's side stays the measurement's
(requests per client, early stops, client connections, round trip), the conditions of the published figure.

Which rows: each profile re-runs every serving row (dense, MoE / MLA, disaggregated Hopper rows, the Blackwell set's
rows (hB70, as the MoE rows: their question at their stated clients), MLPerf v5.1),
whatever engine measured it, as hB41 did for the default stack trtllm-0.x: vllm-0.x and sglang-0.x likewise (hV45,
`RERUN_EVERY_ROW`), but the MLPerf rows on a part whose `serve` without --stack runs another stack (for
trtllm-0.x: MI300X, hV42) or where the profile does not run. Measured against re-running only the rows the
profile's own engine measured (validation/notes/error_bands_tried.md, hV45): those are 6 SGLang and 8 to 10 vLLM
campaigns, under the 9 of a conformal band, so their band was every residual's full range (SGLang TPOT -27..+182 %,
TTFT -95..+443 %); every row's re-run gives 27+ campaigns and still holds 74-94 % of the engine's own rows. A row
the profile refuses (a layout or precision it does not serve) is left out: an answer refused has no band.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from infraplan.catalog.error_bands import (
    DEFAULT_SETTINGS,
    RERUN_SERVING_STACKS,
    Residual,
    accelerator_family,
    stack_class,
)
from infraplan.catalog.schemas import Accelerator
from infraplan.catalog.stacks import DEFAULT_SERVING_STACK
from infraplan.errors import InputError
from infraplan.serving.engines import load_engine
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.loop_stepping import kept_cost_tables
from infraplan.serving.stack_placement import default_serving_stack, stack_on_accelerator

# the shipped serving profiles whose answers are banded by rows re-run on them, beside the default stack (hV45)
OTHER_SHIPPED_PROFILES = tuple(s for s in RERUN_SERVING_STACKS if s != DEFAULT_SERVING_STACK)
RERUN_EVERY_ROW = True  # False: vLLM / SGLang profiles re-run their own engine's rows only (docstring: not adopted)


def shipped_profile(dep: Deployment, ref: str | None = None, memory_bytes: float = 0.0) -> Deployment:
    """`dep` on the shipped serving profile `ref` (None: the default serving stack) as shipped, as `serve --stack
    ref` without --max-batch or --token-budget deploys it: the profile's engine, KV rule, batch limits (closed loop:
    its offline max batch) and token budget on a GPU of `memory_bytes` (`ServingEngine.budget_of`: one attention-DP
    rank's, at least that batch), no draft tokens; the layout, replicas and precisions kept."""
    engine = load_engine(ref)
    return replace(dep, engine=engine.engine, stack=engine.ref, max_batch=engine.offline_max_batch,
                   token_budget=engine.budget_of(None, memory_bytes, dep.attention_dp, engine.offline_max_batch),
                   speculative_tokens=0, acceptance=0.0)


def _on_profile_front_end(row: dict[str, str], predicted: dict[str, float], dep: Deployment) -> dict[str, float]:
    """A Hopper row's prediction with the profile's front end in its TTFT, not its serving path's
    (`serving_hopper.run_row` adds the path's: Dynamo's or the engine's own server)."""
    from infraplan.serving.serving_sim import front_end_s
    from infraplan.validation.serving_hopper import FRONT_END
    from infraplan.validation.serving_row_rules import server_front_end_s

    path = server_front_end_s(row, front_end_s(dep)) - front_end_s(dep) if FRONT_END else 0.0
    return {"ttft_s": predicted["ttft_s"] - path, "tpot_s": predicted["tpot_s"]}


def dense_row_on_profile(row: dict[str, str], ref: str | None = None) -> dict[str, float]:
    """A dense Hopper row's mean TTFT and TPOT (seconds) on the shipped profile `ref` (None: the default serving
    stack): `serve --stack ref` of the row's question (its model, GPUs, TP / PP, precision, lengths, clients and
    requests), figure for figure where the row's harness forces its output lengths (the others keep their early
    stops: the measurement's clients)."""
    from infraplan.validation import campaign_settings
    from infraplan.validation import serving_hopper as dense

    dep = dense.row_deployment(row)
    memory = campaign_settings.row_memory_bytes(row)
    dep = replace(shipped_profile(dep, ref, memory), dtype=dep.kv_dtype)  # the row's precision (SGLang's bf16)
    return _on_profile_front_end(row, dense.run_row(row, dep), dep)


def _measured_on(row: dict[str, str], ref: str | None) -> bool:
    """Whether the profile `ref` re-runs the row (module docstring, "Which rows")."""
    return ref in (None, DEFAULT_SERVING_STACK) or RERUN_EVERY_ROW or row["backend"] == load_engine(ref).engine


@kept_cost_tables()  # rows of one model, layout and precision share their engine's cost tables
def hopper_rows_on(ref: str | None = None) -> list[tuple[dict[str, str], dict[str, float]]]:
    """(row, prediction on the shipped profile `ref`; None: the default serving stack) of every dense, MoE / MLA and
    disaggregated Hopper row the sets score that the profile re-runs (`_measured_on`) and serves."""
    from infraplan.cluster import Cluster
    from infraplan.serving.disaggregated import DisaggregatedDeployment
    from infraplan.serving.serving_sim import simulate_disaggregated
    from infraplan.serving.workloads import fixed_requests
    from infraplan.validation import campaign_settings
    from infraplan.validation import serving_blackwell as blackwell
    from infraplan.validation import serving_hopper as dense
    from infraplan.validation import serving_hopper_disagg as disagg
    from infraplan.validation import serving_hopper_moe as moe
    from infraplan.validation.serving_row_rules import SYSTEMS

    strict = ref in (None, DEFAULT_SERVING_STACK)  # every row runs on the default stack (hB41): a failure is a bug
    found = []
    for row in (r for r in dense.load_rows() if _measured_on(r, ref)):
        try:
            found.append((row, dense_row_on_profile(row, ref)))
        except (InputError, ValueError):
            if strict:
                raise
    stated_sets = ((moe.sampled_rows()[0], moe.moe_deployment, lambda r: moe.model_shape(r["model_path"])),
                   (blackwell.sampled_rows()[0], blackwell.deployment, blackwell.shape))  # Blackwell rows: hB70
    for rows, deployment, shape in stated_sets:
        for row in (r for r in rows if _measured_on(r, ref)):
            memory = campaign_settings.row_memory_bytes(row)
            dep, cap = shipped_profile(deployment(row), ref, memory), campaign_settings.client_connections(row)
            if cap is not None:  # the benchmark client's connections: the measurement's, kept
                dep = replace(dep, max_batch=min(dep.max_batch, cap))
            stated = {**row, "batch_size": str(moe.concurrency(row))}  # `dense.run_row` takes its clients from it
            try:
                predicted = dense.run_row(stated, dep, shape(row))
            except (InputError, ValueError):
                if strict:
                    raise
                continue
            found.append((row, _on_profile_front_end(row, predicted, dep)))
    for row in (r for r in disagg.sampled_rows()[0] if _measured_on(r, ref)):
        # as `disagg.run_row`, on the profile's pools and one front end (`serve`'s)
        pair = disagg.pair_deployment(row)
        memory = campaign_settings.row_memory_bytes(row)
        pair = DisaggregatedDeployment(shipped_profile(pair.prefill, ref, memory), shipped_profile(pair.decode, ref,
                                                                                                   memory))
        clients = disagg.concurrency(row)
        requests = fixed_requests(dense.REQUESTS_PER_CLIENT * clients, int(row["isl"]), int(row["osl"]), None, 0,
                                  stop_per_token=dense.stop_per_token(row))
        try:
            result = simulate_disaggregated(disagg.model_shape(row["model_path"]),
                                            Cluster.resolve(SYSTEMS[row["system"]]), pair, requests, clients=clients,
                                            front_end=dense.FRONT_END, client_round_trip_s=dense.CLIENT_ROUND_TRIP_S)
        except InputError:
            if strict:
                raise
            continue
        if not result["fits"]:
            if strict:
                raise ValueError(f"serving validation row {row['id']} on the default stack: {result['why']}")
            continue
        found.append((row, {"ttft_s": result["ttft_s"]["mean"], "tpot_s": result["tpot_s"]["mean"]}))
    return found


def _hopper_residuals(ref: str | None) -> list[Residual]:
    """Both metrics' residuals of the Hopper rows re-run on `ref` (`hopper_rows_on`), stack class of `ref`."""
    from infraplan.cluster import Cluster
    from infraplan.validation.serving_row_rules import SYSTEMS

    cls = stack_class(ref or DEFAULT_SERVING_STACK)
    found: list[Residual] = []
    for row, predicted in hopper_rows_on(ref):
        family = accelerator_family(Cluster.resolve(SYSTEMS[row["system"]]).accelerator.name)
        tpot = Residual(id=row["id"], family=family, stack=cls, kind="serving", settings=DEFAULT_SETTINGS,
                        residual=float(row["silicon_tpot_ms"]) / 1e3 / predicted["tpot_s"] - 1.0)
        found += [tpot, tpot.model_copy(update={"metric": "ttft", "residual": predicted["ttft_s"] / (
            float(row["silicon_ttft_ms"]) / 1e3) - 1.0})]
    return found


def default_serving_residuals() -> list[Residual]:
    """Every serving case behind the bands re-run on the default serving stack as shipped (`catalog.error_bands`,
    "Default stack"; hB41), its published figures unchanged. The question a user types is kept: the row's model,
    GPUs, layout (TP / PP / EP / attention DP, workers of each pool), precision, lengths and clients; the engine's
    settings are the default profile's (`shipped_profile`: no campaign engine limits, release YAML, MTP drafts or
    serving path's front end). The client's side stays the measurement's (requests per client, early stops, client
    connections, round trip). MLPerf v5.1 rows: those on another stack (vLLM) re-run on it with their case file's
    harness (`engine`); those on it already are their own residuals (same settings); those on a part whose serve
    without --stack runs another vendor's stack (MI300X: vllm-0.x, `stack_placement.default_serving_stack`) are not
    default answers and are left out. Labelled as the case's own (family, kind, metric, campaign), stack class of
    the default stack, `settings: default`."""
    found = _hopper_residuals(None)
    for case, error in _mlperf_on(DEFAULT_SERVING_STACK):
        found.append(_mlperf_residual(case, error, DEFAULT_SERVING_STACK))
    return found


def shipped_serving_residuals() -> list[Residual]:
    """The rows each other shipped serving profile (`OTHER_SHIPPED_PROFILES`: vllm-0.x, sglang-0.x) re-runs, on it
    as shipped (module docstring, "Which rows"): the Hopper rows its engine measured (both metrics) and the MLPerf
    v5.1 rows on it (throughput: their own residuals, the case file runs them on the profile already). Labelled as
    the case's own (family, kind, metric, campaign), stack class of the profile, `settings: default` (a re-run on a
    shipped profile; the class says which)."""
    found: list[Residual] = []
    for ref in OTHER_SHIPPED_PROFILES:
        found += _hopper_residuals(ref)
        found += [_mlperf_residual(case, error, ref) for case, error in _mlperf_on(ref)]
    return found


def _mlperf_residual(case: dict[str, Any], error: float, ref: str) -> Residual:
    from infraplan.cluster import Cluster

    return Residual(id=case["id"], family=accelerator_family(Cluster.resolve(case["system"]).accelerator.name),
                    stack=stack_class(ref), kind="serving", residual=float(error), settings=DEFAULT_SETTINGS)


def _runs_on(ref: str, accelerator: Accelerator) -> bool:
    """Whether the profile `ref` runs on `accelerator`'s vendor (its `runs_on`; a warning or refusal: no)."""
    try:
        return stack_on_accelerator(load_engine(ref), accelerator) is None
    except InputError:
        return False


def _mlperf_on(ref: str) -> list[tuple[dict[str, Any], float]]:
    """(case, error) of the MLPerf v5.1 rows re-run on the shipped profile `ref`: on the default stack every row on
    a part that serves on it without --stack (hB41, hV42); on another profile every row on a part it runs on
    (`stack_placement.stack_on_accelerator`; its engine's rows only without `RERUN_EVERY_ROW`). A row already on
    `ref` is its own residual."""
    from infraplan.cluster import Cluster
    from infraplan.validation.inference import case_stack, run_inference_case
    from infraplan.validation.inference_frontier import frontier_report, load_frontier_cases

    data = load_frontier_cases()
    own = {r["id"]: r["error"] for r in frontier_report()["cases"]}
    memo: dict[str, dict[str, Any]] = {}  # the offline runs on the profile, each shared by its scenarios
    found = []
    for case in data["cases"]:
        accelerator = Cluster.resolve(case["system"]).accelerator
        on_it = load_engine(case_stack(case)).ref == load_engine(ref).ref
        if ref == DEFAULT_SERVING_STACK and default_serving_stack(accelerator)[0] != DEFAULT_SERVING_STACK:
            continue  # a serve without --stack there runs its vendor's stack (vllm-0.x on AMD, hV42), not this one
        if ref != DEFAULT_SERVING_STACK and not (on_it or RERUN_EVERY_ROW and _runs_on(ref, accelerator)):
            continue
        try:
            error = own[case["id"]] if on_it else run_inference_case(
                {**case, "stack": ref}, data["engine"], data["workloads"], memo)["error"]
        except InputError:
            if ref == DEFAULT_SERVING_STACK:
                raise
            continue
        found.append((case, float(error)))
    return found
