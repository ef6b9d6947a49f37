"""Error bands: how far off the model has been on the published cases nearest to a question.

`catalog/band_residuals/` (one file a kind and settings, listed by `catalog/error_bands.yaml`; a process reads only the
files its answers can use: `error_band_rows`, hE80) holds one residual per validation case and metric, with the case's
accelerator family, software-stack class, workload kind and measurement campaign (the source, model and engine
release it was measured in). Metric `throughput`: the relative error of the predicted throughput, predicted /
published - 1, so a positive residual means the model was optimistic (for serving, of the decode throughput
1 / TPOT). Metric `ttft` (the Hopper serving sets' rows, dense, MoE/MLA and disaggregated): predicted / measured mean
TTFT - 1, so a positive residual means the model was pessimistic; `serve` and `serve-plan` give it as
`ttft_error_band`. A band is built from one metric's residuals, written by `infraplan validate --write-error-bands`
(`validation.bands.write_error_bands`), checked for staleness by a test: catalog data training and serving can read.

The band of a question (`error_band`) is meant to hold the measurement about 80 % of the time for a NEW question,
i.e. one from a campaign the residuals do not contain. Cases of one campaign share a bias (one harness, model and
release), so they are not exchangeable with a new campaign's; campaigns are. Hence (`campaign_band`):

* one draw per campaign (Dunn, Wasserman & Ramdas, "Distribution-free prediction sets for two-layer hierarchical
  models", JASA 118 (2023), the subsampling method): one case drawn at random from each of the K campaigns gives K
  exchangeable residuals, so 126 rows of one campaign count as one campaign, not as 126 independent checks;
* conformal ranks: of those K, the k_lo-th and k_hi-th smallest with k_lo = floor(0.1 (K + 1)) and
  k_hi = ceil(0.9 (K + 1)) bound a new campaign's case with probability >= (k_hi - k_lo) / (K + 1) >= 80 % (split
  conformal prediction: Vovk, Gammerman & Shafer 2005; Lei et al., JASA 113 (2018)). Both ranks exist only from
  K = MIN_BAND_CAMPAIGNS = 9 campaigns on (floor(0.1 (K + 1)) >= 1 and ceil(0.9 (K + 1)) <= K);
* one answer, not a random one: the band is the two order statistics' expectations over every draw (exact, by the
  Poisson-binomial law of how many draws fall below each residual). Averaging the ends is not covered by the
  theorem: ASSUMPTION, checked by simulation (error_bands_tried.md; tests/validation/test_band_coverage.py):
  0.80-0.88 coverage of a new campaign for K = 9-100 campaigns with and without spread within campaigns, where
  reading the campaign-pooled CDF at the same ranks gave 0.76-0.82.

Pools, nearest first: the same family, stack class and kind; the same family and kind (any stack); every case of
the kind. The first holding >= 9 campaigns gives the band; when even the last holds fewer, its full range
(min..max; K >= 2 campaigns hold a new one's case with probability >= (K - 1) / (K + 1), the rank argument above
with k_lo = 1, k_hi = K), and `basis` says which. Either tier's band excludes 0 only where a sign test over its
campaigns shows that bias, else it widens to 0, said in the basis (`band_ends.spanning_zero`, hC57). One campaign
(K = 1, probability 0) gives no band (recsys: the MLPerf DLRM-v2 rows are one submission's; video, image: no case),
`no_band_basis` says why. A stack class no case of
the kind ran (training under deepspeed, torchtitan) widens it by the settings swing, said first (band_transfer,
hA). A throughput is then expected within [prediction / (1 + high), prediction / (1 + low)] of the measurement.
Default stack (hB40): a training case's residual is `validate`'s, priced on the settings its measurement ran (a
frontier row on its performance configuration, `validation.sets.frontier_row_stack`). An answer on the default
training stack as shipped (no `--stack`, `--stack nemo-26.04` or a copy, the search's default) carries a second
error: the settings a tuned run would use are not these (the 15 frontier plans on the default stack: mean |error|
12.6 % against 10.5 %, 5 below the case-settings band). So every training case is also re-run on the default stack,
same plan and published figure (`settings: default`, the file's eighth column; `validation.bands.
default_stack_residuals`), and such an answer's band is built from those by the same campaign / conformal rule
(`band_settings`); any other stack's answer keeps the cases' own. `basis` says which. Serving likewise (hB41): a
`serve` / `serve-plan` answer on the default serving stack trtllm-0.x as shipped (no `--stack`, its name, a versioned
name it resolves to, a copy: `serving_band_stack`) at its engine defaults (a `--max-batch`, `--token-budget` or draft
tokens of its own band it by its engine, the basis saying so: `answer_bands.settings_basis`, hN42) is banded by every
serving row re-run on it with the row's model, layout, precision, lengths and clients
(`validation.serving_band_reruns.default_serving_residuals`): its campaign's engine limits,
release kernels, MTP and serving path are settings a default answer does not have (error_bands_tried.md, hB41).
So is an answer on the other shipped profiles, vllm-0.x and sglang-0.x, as shipped (`RERUN_SERVING_STACKS`; no
--stack on AMD or Intel parts, hV42): by every serving row re-run on that profile, stored as `settings: default`
rows of its stack class (`shipped_serving_residuals`, hV45); before, such an answer took the rows as their
campaigns ran them, which held 72-87 % of its engine's rows re-run on it, these 83-94 % (error_bands_tried.md, hV45).
Infrastructure answers (hE40): kind `network`, metric `busbw` (NCCL all-reduce busbw, predicted / published - 1,
validation/cases/network.yaml, 8 GiB) bands `collective` all-reduce on the analytical model from 1 GiB, metric
`busbw_small` (the measured small-message NCCL tables, one NVSwitch domain) one of less in one domain
(`network.collective_band`, hC51); kind `facility` bands by the metric a case checks (validation.bands.
FACILITY_METRICS): `it_power` (server power / TDP, IT / servers, rack power) the IT power of `facility` and of every
composite built on it, `job_mttf` `reliability`'s job MTTF, `cost` (the Epoch AI 1-GW model: one campaign, no band)
the money. Each case names its `campaign` in its case file (the publication whose cases share a bias). Same rule.
A composite's additive total (a fleet's, a scenario's IT power) takes `envelope` of its parts' bands
(catalog/answer_bands.py). No case measures a fabric's bill of materials, a PUE or a scenario's demand: those
carry the basis only. Leave-one-campaign-out coverage on the stored residuals
(tests/validation/test_band_coverage.py): 81-82 % of a left-out campaign's cases, 94 % of all; TTFT 80 % and
89.5 % (error_bands_tried.md; the rule before, 58 % and 75 %).
Each band names the pool it came from: `campaigns_used`, and `cases_used` where the pool is small enough to list
(catalog/band_cases.py, hX59). The conformal ranks' arithmetic is catalog/band_ends.py (`campaign_band`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from pydantic import Field, TypeAdapter, model_validator

from infraplan.catalog import band_cases
from infraplan.catalog import error_band_rows as band_rows
from infraplan.catalog.band_cases import LISTED_CASES_MAX, BandCampaign, BandCase, cases_used
from infraplan.catalog.band_ends import BAND_TAILS as BAND_TAILS
from infraplan.catalog.band_ends import MIN_BAND_CAMPAIGNS as MIN_BAND_CAMPAIGNS
from infraplan.catalog.band_ends import campaign_band as campaign_band
from infraplan.catalog.band_ends import spanning_zero
from infraplan.catalog.band_transfer import ACCELERATOR_FAMILIES as ACCELERATOR_FAMILIES
from infraplan.catalog.band_transfer import STACK_CLASSES as STACK_CLASSES
from infraplan.catalog.band_transfer import (
    accelerator_family,
    family_transfer,
    family_unvalidated,
    on_stack,
    stack_class,
    stack_widening,
)
from infraplan.catalog.error_band_rows import BAND_FOLDER, CASE_SETTINGS, DEFAULT_SETTINGS, ResidualRow, residual_fields
from infraplan.catalog.error_band_rows import written_rows as written_rows
from infraplan.catalog.stacks import DEFAULT_SERVING_STACK, DEFAULT_TRAINING_STACK
from infraplan.results import Result

# kind -> the stack an answer runs without --stack, whose re-run cases band it (module docstring, "Default stack")
DEFAULT_STACKS = {"training": DEFAULT_TRAINING_STACK, "serving": DEFAULT_SERVING_STACK}
# the shipped serving profiles each serving row is re-run on (`settings: default`, stack class the profile's): an
# answer on one as shipped is banded by its re-runs (module docstring, "Default stack"; hB41, hV45)
RERUN_SERVING_STACKS = (DEFAULT_SERVING_STACK, "vllm-0.x", "sglang-0.x")
NETWORK_STACK, FACILITY_STACK = "nccl", "none"  # the stack class of a network / facility residual ("Infrastructure")



class Residual(Result):
    """One validation case's relative throughput error and what it is nearest to."""

    id: str = Field(description="validation case id")
    family: str = Field(description="accelerator family (hopper, ampere, blackwell, ...)")
    stack: str = Field(description="software-stack class (megatron, deepspeed, trtllm, ...)")
    kind: str = Field(description="workload kind: training | serving")
    residual: float = Field(description="predicted / published throughput - 1 (fraction)")
    campaign: str = Field("", description="the measurement campaign (source, model, engine release); empty: the "
                                          "case is its own")
    metric: str = Field("throughput", description="what the residual measures: throughput (predicted / published "
                                                  "throughput - 1; serving: 1 / TPOT) | ttft (predicted / measured "
                                                  "mean TTFT - 1)")
    settings: str = Field(CASE_SETTINGS, description="the settings the case was priced on: case (those its "
                                                     "measurement ran, as `validate` runs it) | default (re-run on "
                                                     "the default training or serving stack, as an answer without "
                                                     "--stack)")

    @property
    def group(self) -> str:
        return self.campaign or self.id


Rows = Sequence[Residual] | Sequence[ResidualRow]  # what a band reads: a caller's residuals or the stored rows as read


class ErrorBand(Result):
    """The expected relative error of a prediction, from the validation residuals of the nearest cases."""

    low: float = Field(description="lower end: the expected floor(0.1 (K + 1))-th smallest of one residual drawn per "
                                   "campaign (K campaigns; `campaign_band`), or the pool's minimum below 9 campaigns "
                                   "(fraction; predicted / measured - 1)")
    high: float = Field(description="upper end: the expected ceil(0.9 (K + 1))-th smallest, or the maximum (fraction)")
    cases: int = Field(description="validation cases the band comes from (count)")
    basis: str = Field(description="which cases, the settings they were priced on (training: as measured, or "
                                   "re-run on the default stack) and the fallback taken when too few match")
    cases_used: tuple[BandCase, ...] = Field((), description="the validation cases the band comes from: id, residual "
                                             "(fraction, predicted / measured - 1) and campaign each; empty where "
                                             f"the pool holds more than {LISTED_CASES_MAX} cases (serving: "
                                             "campaigns_used names them; catalog/band_cases.py)")
    campaigns_used: tuple[BandCampaign, ...] = Field((), description="the measurement campaigns the band comes from "
                                                     "(one case drawn from each): name, case count and residual "
                                                     "range each")
    cases_line: str = Field("", description="a few of those cases in one line, as the CLI prints it under the band: "
                                            "the lowest, median and highest residual case, or the campaigns of the "
                                            "lowest and highest residual (catalog/band_cases.py `nearest_line`)")

    @model_validator(mode="before")
    @classmethod
    def _line(cls, data: object) -> object:  # every band carries its line, however built
        return band_cases.with_cases_line(data)


@lru_cache(maxsize=32)  # the full read and one per kind, settings and stack class read
def load_residuals(kind: str | None = None, settings: str | None = None, stack: str | None = None,
                   plain: bool = False) -> tuple[Residual, ...] | tuple[ResidualRow, ...]:
    """The stored residuals (empty when none is written), in the writer's order; of `kind`, priced on `settings` and
    of stack class `stack` only where given: a process reads and validates just the rows its answers can use, from
    just the files that hold them (hE41, hE80: `error_band_rows.residual_fields`; a `train` answer the 59 training
    rows, a default `serve` answer the 3,927 serving rows re-run on trtllm-0.x, not the 15,800 of every kind;
    `stored_residuals`). Each is the full read's rows of that kind, settings and class; `plain` (the bands' read): as
    `ResidualRow`s where every file read is in the writer's form (`error_band_rows.residual_rows`; hS, session 51)."""
    folder = resources.files("infraplan.catalog") / BAND_FOLDER
    if plain and (rows := band_rows.residual_rows(folder, kind, settings, stack)) is not None:
        return tuple(rows)
    fields = residual_fields(folder, kind, settings, stack)
    # validated as one list (pydantic-core loops over the rows): 2,500 `Residual(...)` calls cost ~3 ms more (hP5);
    # strict (every field is already its type): 3,927 rows 4.7 ms, where lax took 7.0 (hE80)
    return tuple(TypeAdapter(list[Residual]).validate_python(fields, strict=True))


def stored_residuals(kind: str, metric: str, settings: str, cls: str | None = None) -> Rows:
    """The stored rows `error_band` can use for a `kind` answer of `metric` priced on `settings` (`band_settings`)
    on a stack of class `cls`: the kind's rows on the default settings where it has some of `metric` (serving: of
    class `cls`, the re-runs on that shipped profile; `_settings_pool` takes those alone); else all the kind's rows
    (the cases' own, and whether re-run ones exist, which the basis says)."""
    if settings == DEFAULT_SETTINGS:
        priced = load_residuals(kind, DEFAULT_SETTINGS, cls if kind == "serving" else None, True)
        if any(r.metric == metric for r in priced):
            return priced
    if kind == "serving":  # the rows as measured, and (for the basis) the default stack's re-runs, not all ~7,500
        return (*load_residuals(kind, CASE_SETTINGS, None, True),
                *load_residuals(kind, DEFAULT_SETTINGS, stack_class(DEFAULT_SERVING_STACK), True))
    return load_residuals(kind, None, None, True)


# metric -> the quantity a band's basis names (the others: the metric with spaces); hE40's infrastructure metrics
METRIC_LABELS = {"ttft": "TTFT", "busbw": "all-reduce busbw", "it_power": "IT power", "job_mttf": "job MTTF",
                 "pue": "PUE", "busbw_small": "small-message all-reduce busbw"}


def _metric_label(kind: str, metric: str) -> str:
    return kind if metric == "throughput" else f"{kind} {METRIC_LABELS.get(metric, metric.replace('_', ' '))}"


def band_settings(kind: str, stack: str | None) -> str:
    """Which residuals band an answer (module docstring, "Default stack"): a training or serving answer on its
    kind's default stack as shipped (`stack` None or its name: `answer_bands.band_stack`, `serving_band_stack`; no
    `--stack`, the default's name or a copy of it, the search's default) takes the cases re-run on that stack
    (`DEFAULT_SETTINGS`); every other answer the cases as their measurements ran (`CASE_SETTINGS`)."""
    if kind in DEFAULT_STACKS and stack in (None, DEFAULT_STACKS[kind]):
        return DEFAULT_SETTINGS
    if kind == "serving" and stack in RERUN_SERVING_STACKS:  # a shipped serving profile as shipped (hV45)
        return DEFAULT_SETTINGS
    return CASE_SETTINGS


def _settings_pool(residuals: Rows, kind: str, metric: str, settings: str,
                   stack: str | None = None) -> tuple[list[Residual | ResidualRow], str]:
    """The residuals of `metric` priced on `settings`, and what the basis says of them: '' where the kind has
    residuals of one settings only (recsys, network, facility); the case's own where none of `settings` are
    stored. A serving answer on a shipped profile `stack` (`RERUN_SERVING_STACKS`) takes the rows re-run on it
    (stack class the profile's); none stored (a file written before hV45's vllm-0.x / sglang-0.x re-runs): the
    cases' own."""
    of_metric = [r for r in residuals if r.metric == metric]
    if not any(r.settings != CASE_SETTINGS for r in of_metric if r.kind == kind):
        return [r for r in of_metric if r.settings == CASE_SETTINGS], ""
    default = DEFAULT_STACKS.get(kind, "")
    profile = stack or default
    # the profile's class, once, not per row (hE80: 60 % of a serving band's time), and for serving only: a training
    # answer reads no re-run row by class, and the class of a stack it has not loaded costs a stack file's read
    # (hK71: 1.3-1.8 ms of a fresh process's 2.5 ms `train` band)
    cls = stack_class(profile) if kind == "serving" else ""
    rerun = [r for r in of_metric if r.settings == DEFAULT_SETTINGS and r.stack == cls] if cls else []
    if settings == DEFAULT_SETTINGS and kind == "serving" and rerun:
        which = "the default serving stack" if profile == default else "the shipped serving stack"
        answer = which if profile == default else f"{profile} as shipped"
        return (rerun, f", each re-run on {which} {profile} (the row's model, layout, precision, lengths, clients and "
                       f"published figure on the profile's engine settings, not its campaign's: the answer is on "
                       f"{answer}, not a configured one)")
    if settings == DEFAULT_SETTINGS and kind == "serving":  # a file written before hV45: the cases' own
        return ([r for r in of_metric if r.settings == CASE_SETTINGS],
                f", each on the settings its measurement ran (no row is stored re-run on {profile})")
    if settings == DEFAULT_SETTINGS:
        return ([r for r in of_metric if r.settings == DEFAULT_SETTINGS],
                f", each re-run on the default stack {default} (the case's plan and published figure, "
                f"without the settings its measurement ran: the answer is on the default stack, not a tuned one)")
    *others, last = RERUN_SERVING_STACKS
    shipped = f"{', '.join(others)} or {last}" if kind == "serving" else default
    return ([r for r in of_metric if r.settings == CASE_SETTINGS],
            f", each on the settings its measurement ran (the answer's stack is not {shipped} as shipped)")


def error_band(accelerator: str, stack: str | None, kind: str, residuals: Rows | None = None,
               metric: str = "throughput") -> ErrorBand | None:
    """The band for a question on `accelerator` under `stack` of `kind`, from the residuals of `metric`
    (throughput, or ttft: predicted / measured TTFT - 1) priced on the settings `band_settings` gives; None when the
    kind's cases hold fewer than 2 campaigns (`no_band_basis` says why)."""
    if stack is None and kind == "serving":  # None: the default stack, of its class (trtllm)
        stack = DEFAULT_SERVING_STACK
    settings = band_settings(kind, stack)
    family, cls, label = accelerator_family(accelerator), stack_class(stack), _metric_label(kind, metric)
    rows = stored_residuals(kind, metric, settings, cls) if residuals is None else residuals
    pool, priced = _settings_pool(rows, kind, metric, settings, stack)
    few = f"fewer than {MIN_BAND_CAMPAIGNS} campaigns"
    of_kind = [r for r in pool if r.kind == kind]
    held = ", ".join(sorted({r.family for r in of_kind}))  # the pool's families, said in the basis
    # no case of the family (hU59, catalog/band_transfer.py): said so, with how a band carried over between families
    unseen = family_unvalidated(of_kind, family, kind)
    named = family if family == accelerator else f"{family} ({accelerator})"
    where = (f"no {named} {label} case: outside the validated accelerators" if unseen else
             f"{few} of {family} {label} cases")
    transfer = f"; {family_transfer(of_kind, family, _full_range_below_nine)}" if unseen else ""
    # a facility figure runs no software stack (FACILITY_STACK): its basis names none (hU41: "any stack" on IT power)
    stacked = kind != "facility"
    any_stack, of_class = (", any stack", f" of stack class {cls}") if stacked else ("", "")
    tiers = (
        (lambda r: r.family == family and r.stack == cls and r.kind == kind,
         f"{family}, stack class {cls}" if stacked else family),
        (lambda r: r.family == family and r.kind == kind, f"{family}{any_stack} ({few} of {family} {label} cases"
                                                            f"{of_class})"),
        (lambda r: r.kind == kind, f"any accelerator{any_stack} ({where}; the cases' families: {held}{transfer})"),
    )
    unstacked = settings == CASE_SETTINGS and stack_widening(of_kind, rows, cls, stack, kind, metric, label,
                                                             _full_range_below_nine) or None  # hA: no case of cls
    for match, basis in tiers:
        found = [r for r in pool if match(r)]
        campaigns = [r.group for r in found]
        values = [r.residual for r in found]
        band = campaign_band(values, campaigns) if found else None
        k = len(set(campaigns))
        count = f"{len(found):,} {label} cases of {k} campaigns{priced}"
        if band is not None:
            (low, high), signs = spanning_zero(band, values, campaigns)  # hC57: no bias claimed the signs do not show
            return on_stack(ErrorBand(low=low, high=high, cases=len(found), **_named(found),
                                       basis=f"80 % conformal band over campaigns (one case drawn from each) of the "
                                             f"validation residuals of {count}: {basis}{signs}"), unstacked)
        if k >= 2 and basis.startswith("any accelerator"):  # too few campaigns anywhere: their full range
            # the min and max of K exchangeable campaign draws hold a new one's with probability (K - 1) / (K + 1)
            # (the conformal rank argument above with k_lo = 1, k_hi = K); every case's range holds at least that
            (low, high), signs = spanning_zero((min(values), max(values)), values, campaigns)
            return on_stack(ErrorBand(low=low, high=high, cases=len(found), **_named(found),
                                       basis=f"full range of the validation residuals of {count} ({few} of any "
                                             f"accelerator; holds a new campaign's case with probability >= "
                                             f"{(k - 1) / (k + 1):.0%}): {basis}{signs}"), unstacked)
    return None


def _named(found: Sequence[Residual | ResidualRow]) -> dict[str, tuple[BandCase, ...] | tuple[BandCampaign, ...]]:
    """A band's `cases_used` and `campaigns_used`: the pool it came from (catalog/band_cases.py; hX, session 59)."""
    cases, campaigns = cases_used(found)
    return {"cases_used": cases, "campaigns_used": campaigns}


def _full_range_below_nine(values: Sequence[float], campaigns: Sequence[str]) -> tuple[float, float] | None:
    """`error_band`'s every-case tier on its own: the conformal band, else the full range of >= 2 campaigns (either
    under `band_ends.spanning_zero`'s rule)."""
    band = campaign_band(values, campaigns)
    band = band if band is not None or len(set(campaigns)) < 2 else (min(values), max(values))
    return None if band is None else spanning_zero(band, values, campaigns)[0]


def no_band_basis(kind: str, metric: str = "throughput", residuals: Rows | None = None) -> str:
    """Why `error_band` gives a `kind` answer no band: no validation case of it, or cases of one campaign only, whose
    range says nothing of a new campaign's bias (its min..max holds a new campaign's case with probability
    (K - 1) / (K + 1) = 0 at K = 1)."""
    label = _metric_label(kind, metric)
    found = [r for r in (load_residuals(kind, CASE_SETTINGS, None, True) if residuals is None else residuals)
             if r.kind == kind and r.metric == metric and r.settings == CASE_SETTINGS]
    if not found:
        return f"no validation campaign measures {label} answers"
    campaigns = sorted({r.group for r in found})
    values = [r.residual for r in found]
    return (f"the {len(found)} {label} validation cases (residuals {min(values):+.1%}..{max(values):+.1%}) are "
            f"{len(campaigns)} campaign ({'; '.join(campaigns)}); their spread is one harness's, not a new campaign's, "
            f"and a band needs >= 2 campaigns ({MIN_BAND_CAMPAIGNS} for the 80 % conformal band)")


def band_and_basis(accelerator: str, stack: str | None, kind: str, metric: str = "throughput",
                   residuals: Rows | None = None) -> tuple[ErrorBand | None, str]:
    """An answer's `error_band` and `error_band_basis`: the band and its basis, or None and why there is none (the
    stored residuals' once per question and process: a sweep asks the same one per point)."""
    if residuals is None:
        return stored_band_and_basis(accelerator, stack, kind, metric)
    band = error_band(accelerator, stack, kind, residuals, metric)
    return band, band.basis if band is not None else no_band_basis(kind, metric, residuals)


@lru_cache(maxsize=256)
def stored_band_and_basis(accelerator: str, stack: str | None, kind: str, metric: str) -> tuple[ErrorBand | None,
                                                                                                  str]:
    """`band_and_basis` on the stored residuals (`validation.bands.write_error_bands` clears it with them), of those
    only the rows it can use (`stored_residuals`, `no_band_basis`'s)."""
    band = error_band(accelerator, stack, kind, None, metric)
    return band, band.basis if band is not None else no_band_basis(kind, metric)
