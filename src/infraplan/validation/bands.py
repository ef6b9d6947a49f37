"""Write the error-band residuals: one residual per validation case, the data behind every `error_band`.

`infraplan validate --write-error-bands` calls `write_error_bands`; tests/validation/test_sets.py regenerates
the text and fails when the stored files are stale (the physics moved and the bands were not rewritten). Residuals
are rounded to 4 decimals so the files change only when an error moves by 0.01 % or more. The rows go to
`catalog/band_residuals/`, one file per kind for the rows as measured and one per kind and stack class for the
re-runs on a default stack (`catalog.error_band_rows.section_file`: a process reads only the files its answers can
use, hE80), each in the one-row-a-line form `catalog.error_band_rows.written_rows` reads without the YAML parser;
`catalog/error_bands.yaml` says what they are and lists them with their row counts (`error_band_files`).

Each residual carries its measurement campaign (`campaign_of`), the unit `catalog.error_bands.campaign_band` pools
by, because the cases of one campaign share a bias (error_bands_tried.md: leave-one-campaign-out coverage):
a serving row's model, engine and release as its data file states them (the AIConfigurator silicon sample's
`model_path`, `backend`, `backend_version`: one harness on one release of one model); a frontier training row's
model (`data/frontier_training.csv`: Megatron-Bridge's performance summary, one section of runs per model); a
training case's publication (`cases/training.yaml` `source` up to its table: "Narayanan et al. SC'21", "Llama 3
paper"); an MLPerf Inference row's benchmark on its system (its scenarios are one submission's runs); the MLPerf
DLRM rows one submission (`cases/recsys_mlperf.yaml`: one Quanta 8x H200 system).

The dense Hopper serving set (`validation.serving_hopper`, 771 rows of Llama 3.1 8B / 70B and Qwen3-32B) is not
one of `runner.scored_sets` (its gate is tracked apart, `validate` reports it as a section) but is a validation set
all the same: `dense_serving_residuals` adds its rows' decode-throughput residuals (measured / predicted TPOT - 1,
as `serving_report.score_report` scores the MoE and disaggregated rows), without which a dense-model `serve`
answer was banded by MoE rows alone (error_bands_tried.md).

The Blackwell serving set (`validation.serving_blackwell`, B200 / B300 rows of the same sample; hB70) is one of the
scored sets: its residuals are family `blackwell`, so a Blackwell serving answer's band comes from Blackwell rows.
Every Hopper serving row (dense, MoE/MLA, disaggregated) also gives a residual of metric `ttft`, predicted /
measured mean TTFT - 1 (the `silicon_ttft_ms` column against the closed-loop prediction the set scores), behind
`serve`'s `ttft_error_band`: a plan may bind on its TTFT SLO, and the dense set's TTFT error (31 %) is more than twice
its TPOT error. The file's seventh column names the metric; a six-column row is a throughput residual.

Every training case behind the bands (the gated cases and the frontier rows, not vTrain) is also re-run on the default
training stack, its plan and published figure unchanged (`default_stack_residuals`, an eighth column `default`): the
band of an answer on that stack (`catalog.error_bands.band_settings`; hB40). ~0.8 s of `--write-error-bands`.
Every serving row behind the bands (dense, MoE / MLA, disaggregated Hopper rows, MLPerf v5.1) likewise on the default
serving stack trtllm-0.x as shipped (`default_serving_residuals`, hB41) and on the shipped vllm-0.x and sglang-0.x
(`shipped_serving_residuals`, hV45; stack class the profile's): the row's question as `serve` takes it (model,
GPUs, layout, precision, lengths, clients; a dense row's re-run is `serve` of it, figure for figure) on the
profile's engine settings; the client's side stays the measurement's (`validation.serving_band_reruns`). The
re-runs are ~47 of the ~61 CPU-s of `--write-error-bands` (and of the staleness test; trtllm-0.x ~8, vllm-0.x ~15,
sglang-0.x ~24); `validate` does not compute residuals.

The network and facility cases give residuals of kinds `network` (metric busbw; busbw_small: the measured
small-message NCCL tables, `validation.network.small_message_rows`, hC51) and `facility` (by the metric each
case checks: it_power, job_mttf, cost, ...), each with the campaign its case file names (`infrastructure_residuals`;
hE40): the bands of `collective`, `facility`, `reliability` and the composites built on them.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

from infraplan.catalog.error_band_rows import BAND_FOLDER, section_file
from infraplan.catalog.error_bands import (
    CASE_SETTINGS,
    DEFAULT_SETTINGS,
    FACILITY_STACK,
    NETWORK_STACK,
    Residual,
    accelerator_family,
    stack_class,
)
from infraplan.errors import InputError
from infraplan.validation.serving_band_reruns import default_serving_residuals, shipped_serving_residuals

# vTrain's 1,440 single-node step times of small GPT models would outnumber every multi-node case 70 to 1 in
# the fallback pools; its error is reported by its own set and not used for the bands
EXCLUDED_SETS = ("vTrain single-node A100 (step time)",)
HEADER = ("# Validation residuals behind every error_band (catalog/error_bands.py states the rule).\n"
          "# Written by `infraplan validate --write-error-bands`; do not edit by hand.\n"
          "# Each row: [case id, accelerator family, stack class, kind, residual, campaign, metric]; residual of\n"
          "# metric throughput: predicted / published throughput - 1 (serving: of 1 / TPOT); of metric ttft:\n"
          "# predicted / measured mean TTFT - 1; an eighth column `default`: the training or serving case re-run on\n"
          "# the default stack of its kind (serving: on the shipped profile of its stack class, trtllm-0.x, vllm-0.x\n"
          "# or sglang-0.x; the band of an answer on it), none: on the settings the case's measurement ran\n")
INDEX = "error_bands.yaml"  # under the catalog package: what the files of BAND_FOLDER are, and their row counts
INDEX_HEADER = ("# Validation residuals behind every error_band (catalog/error_bands.py states the rule).\n"
                "# Written by `infraplan validate --write-error-bands`; do not edit by hand.\n"
                f"# The rows are in catalog/{BAND_FOLDER}/ (files: rows): <kind>.yaml holds a kind's rows on the\n"
                "# settings each case's measurement ran, <kind>.default.<stack class>.yaml its rows re-run on the\n"
                "# default stack (serving: the shipped profile) of that class; a process reads only the files its\n"
                "# answers can use (catalog/error_band_rows.py). Each file's header says what a row holds.\n")
SOURCE = ("the validation sets' residuals (validation/cases, validation/data), each case priced by the model of "
          "this release: validation.bands.write_error_bands")
SERVING_FILES = ("serving_measured_hopper.csv", "serving_measured_hopper_moe.csv", "serving_measured_hopper_disagg.csv",
                 "serving_measured_blackwell.csv")
MLPERF_SCENARIO = re.compile(r"^(mlperf-v[\d.]+-.+)-(offline|server|interactive)$")


def residuals_text(residuals: list[Residual], what: str = "") -> str:
    """One file of rows (`catalog.error_band_rows.written_rows`'s form), in the writer's order; `what`: a comment
    line saying which rows the file holds."""
    lines = [HEADER, f"# This file: {what}\n" if what else "", f'source: "{SOURCE}"\n', "residuals:\n"]
    for r in sorted(residuals, key=lambda r: (r.kind, r.metric, r.settings, r.family, r.stack, r.id)):
        settings = "" if r.settings == CASE_SETTINGS else f", {r.settings}"
        lines.append(f"  - [{r.id}, {r.family}, {r.stack}, {r.kind}, {r.residual:.4f}, {_quoted(r.campaign)}, "
                     f"{r.metric}{settings}]\n")
    return "".join(lines)


def error_band_files(residuals: list[Residual]) -> dict[str, str]:
    """Every file the residuals are written to, path under the catalog package -> text: one per section
    (`section_file`) and the index (`INDEX`) listing them."""
    sections: dict[str, list[Residual]] = {}
    for r in residuals:
        sections.setdefault(section_file(r.kind, r.settings, r.stack), []).append(r)
    files = {}
    for name in sorted(sections):
        rows = sections[name]
        what = (f"the {rows[0].kind} rows on the settings each case's measurement ran" if rows[0].settings ==
                CASE_SETTINGS else f"the {rows[0].kind} rows re-run on the default stack of class {rows[0].stack}")
        files[f"{BAND_FOLDER}/{name}"] = residuals_text(rows, what)
    listed = "".join(f"  {name}: {len(rows)}\n" for name, rows in sorted(sections.items()))
    return {INDEX: f'{INDEX_HEADER}source: "{SOURCE}"\nfiles:\n{listed}', **files}


def stored_error_band_files(catalog: Path | None = None) -> dict[str, str]:
    """The files as stored (`error_band_files`' paths; every file of BAND_FOLDER, whatever its name)."""
    root = catalog or catalog_path()
    index = root / INDEX
    found = {INDEX: index.read_text()} if index.is_file() else {}
    folder = root / BAND_FOLDER
    for path in sorted(folder.iterdir()) if folder.is_dir() else ():
        if path.is_file():
            found[f"{BAND_FOLDER}/{path.name}"] = path.read_text()
    return found


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@cache
def _campaigns() -> dict[str, str]:
    """Case id -> campaign, from the data and case files (module docstring)."""
    from infraplan.catalog.data_files import validation_rows
    from infraplan.validation.runner import load_cases

    found: dict[str, str] = {}
    for name in SERVING_FILES:
        for row in validation_rows(name):
            found[row["id"]] = f"{row['model_path']} {row['backend']} {row['backend_version'] or 'unversioned'}"
    for row in validation_rows("frontier_training.csv"):
        found[row["id"]] = f"Megatron-Bridge performance summary, {row['model']}"
    for case in load_cases():
        found[case["id"]] = re.split(r" Table|:| \(", str(case.get("source", case["id"])))[0].strip()
    return found


def campaign_of(residual: Residual) -> str:
    """The campaign a validation case was measured in (module docstring); the case itself when none is known."""
    if residual.kind == "recsys":
        return "MLPerf Inference v5.1 DLRM-v2, Quanta D74U-7U 8x H200"
    scenario = MLPERF_SCENARIO.match(residual.id)
    if scenario:
        return scenario.group(1)
    return _campaigns().get(residual.id, residual.id)


def dense_serving_residuals() -> list[Residual]:
    """The dense Hopper serving rows' decode-throughput and TTFT residuals (module docstring)."""
    from infraplan.cluster import Cluster
    from infraplan.validation.serving_hopper import load_rows, row_stack
    from infraplan.validation.serving_hopper_report import row_predictions
    from infraplan.validation.serving_row_rules import SYSTEMS

    found = []
    for row, predicted in zip(load_rows(), row_predictions(), strict=True):  # the set's own predictions
        family = accelerator_family(Cluster.resolve(SYSTEMS[row["system"]]).accelerator.name)
        base = Residual(id=row["id"], family=family, stack=stack_class(row_stack(row)), kind="serving",
                        residual=float(row["silicon_tpot_ms"]) / 1e3 / predicted["tpot_s"] - 1.0)
        found += [base, base.model_copy(update={"metric": "ttft", "residual": predicted["ttft_s"] / (
            float(row["silicon_ttft_ms"]) / 1e3) - 1.0})]
    return found


def default_stack_residuals() -> list[Residual]:
    """Every training case behind the bands (the gated cases, the frontier rows) re-run on the default training
    stack, its plan, metric and published figure unchanged (`catalog.error_bands`, "Default stack"): a gated case
    without its `stack` (`runner.run_case`: stack None; a `plan_source: search` case searched on the default
    stack), a frontier row without its validated stack (`sets.frontier_row_estimate(row, None)`). Labelled as the
    case's own residual is (family, kind, campaign), stack class of the default stack, `settings: default`."""
    from infraplan.cluster import Cluster
    from infraplan.validation.runner import load_cases, run_case
    from infraplan.validation.sets import frontier_row_estimate, load_frontier_rows

    found: list[tuple[str, str, float]] = []  # (id, accelerator, residual)
    # (a plan the default stack refuses, `train`'s one line, has no answer to band: the Llama 3 405B cases' PP16 x VP7
    # and DeepSeek-V3's 61 layers on PP > 1 under its even split, hR44)
    for case in load_cases():
        if "known_gap" not in case:  # the gated cases (`TrainingCase.gated`), the training set's residuals
            try:
                error = run_case({k: v for k, v in case.items() if k != "stack"}).error
            except InputError:
                continue
            found.append((case["id"], Cluster.resolve(case["system"]).accelerator.name, error))
    for row in load_frontier_rows():
        if not row["awaiting_issue_13"]:
            try:
                result = frontier_row_estimate(row, None)
            except InputError:
                continue
            found.append((row["id"], result.accelerator, result.tokens_per_s_per_gpu / float(row["value"]) - 1.0))
    return [Residual(id=i, family=accelerator_family(accelerator), stack=stack_class(None), kind="training",
                     residual=residual, settings=DEFAULT_SETTINGS) for i, accelerator, residual in found]


# facility case kind (cases/facility.yaml) -> the metric of the answer it checks (catalog.error_bands, "Infrastructure
# answers"); a `bound` case (a lower bound, not a figure) gives no residual
FACILITY_METRICS = {"job_mttf_h": "job_mttf", "server_overhead": "it_power", "it_over_servers": "it_power",
                    "rack_power_kw": "it_power", "accelerators_per_rack": "accelerators_per_rack",
                    "campus_per_gw_it": "cost", "campus_per_gw_facility": "cost", "model_card_co2": "co2_accounting",
                    "daly_interval_min": "checkpoint_interval", "checkpoint_tb": "checkpoint_size",
                    "training_gpu_hours": "run_gpu_hours", "goodput": "goodput"}


def _case_family(case: dict[str, object]) -> str:
    """A facility or network case's accelerator family: its system's, its accelerator's, else `any`."""
    from infraplan.cluster import Cluster

    if case.get("system"):
        return accelerator_family(Cluster.resolve(str(case["system"])).accelerator.name)
    return accelerator_family(str(case["accelerator"])) if case.get("accelerator") else "any"


def infrastructure_residuals() -> list[Residual]:
    """The network cases' busbw residuals and the facility cases' by metric (`FACILITY_METRICS`), each with the
    campaign its case file names; gated cases only (a known gap is reported, not a band's), none of a `bound` case
    or one `not_in_bands` (its figure is a catalog input). ~0.2 s of `--write-error-bands`."""
    from infraplan.validation.facility import load_facility_cases, run_facility_validation
    from infraplan.validation.network import load_network_cases, run_network_validation, small_message_rows

    found = []
    pairs = [(c, r, NETWORK_STACK, "network", "busbw")
             for c, r in zip(load_network_cases(), run_network_validation()["cases"], strict=True)]
    pairs += [(c, r, FACILITY_STACK, "facility", FACILITY_METRICS[c["kind"]])
              for c, r in zip(load_facility_cases(), run_facility_validation()["cases"], strict=True)]
    for case, row, stack, kind, metric in pairs:
        if row["gated"] and not row.get("bound") and "not_in_bands" not in case:
            found.append(Residual(id=case["id"], family=_case_family(case), stack=stack, kind=kind,
                                  residual=float(row["error"]), campaign=case["campaign"], metric=metric))
    # a message under 1 GiB in one NVSwitch domain: the measured small-message tables (`network.collective_band`)
    found += [Residual(id=row["id"], family=_case_family(row), stack=NETWORK_STACK, kind="network",
                       residual=float(row["error"]), campaign=row["campaign"], metric="busbw_small")
              for row in small_message_rows()]
    return found


def current_residuals() -> list[Residual]:
    """The residuals of every validation set on the current model (computed once per process)."""
    return list(_residuals())


@cache
def _residuals() -> tuple[Residual, ...]:
    """From the sets `run_validation` scores (`runner.scored_sets`, once per process for both) and the dense
    Hopper serving rows, each with its campaign."""
    from infraplan.validation.runner import scored_sets

    found = [r for s, residuals in scored_sets() if s.name not in EXCLUDED_SETS for r in residuals]
    found += dense_serving_residuals() + default_stack_residuals() + default_serving_residuals()
    found += shipped_serving_residuals()
    found += infrastructure_residuals()
    return tuple(r if r.campaign else r.model_copy(update={"campaign": campaign_of(r)}) for r in found)


def catalog_path() -> Path:
    return Path(str(resources.files("infraplan.catalog")))


def error_bands_path() -> Path:
    return catalog_path() / INDEX


def write_band_files(root: Path, residuals: list[Residual]) -> Path:
    """Write `error_band_files(residuals)` under the catalog folder `root`, removing any other file of BAND_FOLDER
    (a section no row is in any more); returns the index's path."""
    files = error_band_files(residuals)
    (root / BAND_FOLDER).mkdir(exist_ok=True)
    for stale in set(stored_error_band_files(root)) - set(files):
        (root / stale).unlink()
    for name, text in files.items():
        (root / name).write_text(text)
    return root / INDEX


def write_error_bands(catalog: Path | None = None) -> Path:
    """Rewrite the residual files under `catalog` (default: the package's catalog) from the current model
    (`write_band_files`); returns the index's path."""
    index = write_band_files(catalog or catalog_path(), current_residuals())
    from infraplan.catalog.error_bands import load_residuals, stored_band_and_basis
    from infraplan.validation.inference import inference_report
    from infraplan.validation.inference_frontier import frontier_report
    from infraplan.validation.runner import case_rows, run_validation, scored_sets
    from infraplan.validation.serving_hopper_report import row_predictions, serving_hopper_report

    load_residuals.cache_clear()
    stored_band_and_basis.cache_clear()
    for report in (run_validation, case_rows, scored_sets, _residuals, inference_report, serving_hopper_report,
                   row_predictions, frontier_report):
        report.cache_clear()  # their rows may carry error bands
    return index
