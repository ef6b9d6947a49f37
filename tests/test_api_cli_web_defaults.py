"""One answer from the CLI, the Python API, the web API and the sweep: their defaults and options agree (hV).

The CLI is the reference (the README documents it). For each command, every typer option's default is compared
with the default of the same argument in the Python API function the command calls, in the web request model
(web/requests.py) and in the sweep's registered function (sweep/functions.py `FUNCTIONS`); an option one of them
does not take, or takes under another name, is listed below with its reason. A new option or default that
disagrees fails here until it is aligned or listed. The pages' forms (`PAGES`: recsys and video, hE64; network,
collective, facility and campus, hK64) are held to the same options and defaults: what the untouched form posts is
the CLI's default line (`test_page_form_takes_...`).
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import typing
from collections.abc import Callable
from html.parser import HTMLParser
from importlib import resources
from typing import Any

import click
import pytest
import typer.main
from typer.testing import CliRunner

from infraplan.cli.main import app
from infraplan.sweep.callables import collective
from infraplan.sweep.functions import FUNCTIONS, resolve_callable
from infraplan.training.estimate import estimate_training
from infraplan.web.request_fields import takes_upload
from infraplan.web.requests import REQUESTS

API = {
    "train": "infraplan.training.estimate:estimate_training",
    "search": "infraplan.training.search:search_plans",
    "serve": "infraplan.serving.serving_api:estimate_serving",
    "serve-plan": "infraplan.serving.capacity:search_capacity",
    "recsys": "infraplan.recsys.estimate:estimate_recsys",
    "video": "infraplan.video.transcode:estimate_video",
    "facility": "infraplan.facility.facility:size_facility",
    "campus": "infraplan.planning.campus:plan_campus",
    "collective": "infraplan.planning.collective_answer:estimate_collective",  # the network layer's, with its note
    "reliability": "infraplan.facility.reliability:reliability_report",
}
"""Command -> the Python API function it calls."""
SWEEP = {"facility": "infraplan.sweep.callables:facility", "campus": "infraplan.sweep.callables:campus",
         "collective": "infraplan.sweep.callables:collective",
         "serve": "infraplan.sweep.serve_run:serve"}  # (the CLI's flat prefill options too, hW73)
"""Commands whose sweep function is a wrapper of plain values (the others run the API function itself)."""

LAYERS = ("api", "web", "sweep")
REQUIRED = "<required>"
ABSENT = "<absent>"

RENAMED: dict[tuple[str, str, str], str] = {
    # a unit in the API's name (every number carries its unit): same quantity, same default
    ("recsys", "latency_slo", "api"): "latency_slo_s",
    ("facility", "rack_power", "api"): "rack_power_w",
    ("campus", "power", "api"): "power_w",
    ("collective", "size", "api"): "size_bytes",
    ("collective", "size", "sweep"): "bytes",  # the sweep's arguments are the CLI's flag names (--bytes)
    ("serve", "usd_per_hour", "api"): "usd_per_gpu_hour", ("serve", "usd_per_hour", "sweep"): "usd_per_gpu_hour",
    # the CLI's parameter names a Python keyword or builtin clash, the flag is the other name
    ("video", "input_video", "web"): "input",  # --input
    ("video", "peak", "api"): "peak_to_average", ("video", "peak", "web"): "peak_to_average",  # --peak-to-average
    # one flag, a list in the API: --max-batch 64,256 = batch_caps (64, 256); --schedule S = schedules (S,)
    ("serve-plan", "max_batch", "api"): "batch_caps", ("serve-plan", "max_batch", "sweep"): "batch_caps",
    ("search", "schedule", "api"): "schedules", ("search", "schedule", "sweep"): "schedules",
    ("reliability", "checkpoint_size", "api"): "checkpoint_size_bytes",  # the size read to bytes
    ("reliability", "restart", "api"): "restart_s", ("reliability", "restart", "web"): "restart_s",  # --restart-s
    ("reliability", "shrink_unit", "api"): "shrink_unit_gpus",  # --shrink-unit: GPUs (hR74)
    # --no-disaggregation (CLI flag, False) = disaggregation True
    ("serve-plan", "no_disaggregation", "api"): "disaggregation",
    ("serve-plan", "no_disaggregation", "sweep"): "disaggregation",
    ("serve-plan", "no_disaggregation", "web"): "disaggregation",
}
"""(command, CLI parameter, layer) -> the name that layer gives the same option."""

NEGATED = {("serve-plan", "no_disaggregation")}
"""Options whose renamed twin is the negation (--no-disaggregation False = disaggregation True)."""

NOT_TAKEN: dict[tuple[str, str], tuple[str, str]] = {
    # (command, CLI parameter) -> (layers that do not take it, why)
    **{(c, "as_json"): ("api web sweep", "output format of the CLI; the others return the typed result")
       for c in API},
    **{(c, "plot"): ("api web sweep", "writes an HTML file; the web reads and writes no files")
       for c in ("search", "facility", "campus")},
    ("facility", "costs"): ("api web", "a YAML path: the API takes the merged `overrides`; the web reads no files"),
    ("facility", "pue"): ("api", "merged into `overrides` (`load_cost_overrides(costs).merged`), as the CLI does"),
    ("facility", "electricity_price"): ("api", "merged into `overrides`, as the CLI does"),
    ("facility", "server_price"): ("api", "merged into `overrides`, as the CLI does"),
    ("campus", "costs"): ("api web", "a YAML path: the API takes the merged `overrides`; the web reads no files"),
    ("campus", "electricity_price"): ("api", "merged into `overrides`, as the CLI does"),
    ("campus", "pue"): ("api", "merged into `overrides`, as the CLI does"),
    ("campus", "server_price"): ("api", "merged into `overrides`, as the CLI does"),
    ("campus", "fleet"): ("api sweep", "another command behind one flag: `plan_fleet` (planning/campus.py)"),
    **{("train", o): ("api", "whole-run totals on top of the estimate (`planning.training_run`), as the CLI, the "
                      "web runner and the sweep (`sweep.train_run`, hP61) add them")
       for o in ("tokens", "location", "server_price", "eval_every", "eval_samples", "no_spare_policy")},
    ("train", "costs"): ("api web", "a cost-override YAML path for the --tokens totals (as `tokens`)"),
    ("reliability", "plan"): ("api sweep", "train's plan flags as one string, read by the CLI's train parser "
                              "(cli/commands/train.plan_estimate); the API takes the plan's estimate by "
                              "planning.shrunk_plan.plan_reliability (hS75); the web a train body's fields"),
    **{("search", o): ("api", "the best plan's whole run on top of the search (`planning.search_run`), as the "
                       "CLI, the web runner and the sweep (`sweep.train_run.search`, hP62) add it")
       for o in ("tokens", "location", "server_price", "eval_every", "eval_samples", "no_spare_policy")},
    ("search", "costs"): ("api web", "a cost-override YAML path for the --tokens totals (as train's)"),
    ("serve", "trace"): ("web", "a CSV path; the web reads no files"),
    **{("serve", o): ("api", "the API takes one `prefill: PrefillLayout`, which these build (the sweep's `serve`"
                       " takes them flat, `sweep.serve_run`)")
       for o in ("prefill_tp", "prefill_pp", "prefill_ep", "prefill_attention_dp", "prefill_max_batch",
                 "prefill_moe_tp", "prefill_token_budget")},
    ("collective", "system"): ("api", "the API takes the resolved `cluster` (with --fabric applied)"),
    ("collective", "fabric"): ("api", "applied to the cluster the API takes (`network.rail_leaves.with_fabric`)"),
    # `network` is no API function here (its page's form is held to the CLI: `PAGES`)
    ("network", "system_option"): ("web", "the positional SYSTEM as an option (`--system`); the web's `system` is it"),
    ("network", "graphml"): ("web", "writes a GraphML file; the web reads and writes no files"),
}

DEFAULTS_DIFFER: dict[tuple[str, str, str], str] = {
    ("train", "seq_len", "api"): "required on the CLI and the web; the API's 2048 keeps old Python calls working",
    ("train", "seq_len", "sweep"): "the sweep runs the API function (a spec without seq_len gets 2048)",
    ("train", "global_batch", "api"): "required on the CLI and the web; the API's 512 as seq_len's 2048",
    ("train", "global_batch", "sweep"): "the sweep runs the API function",
    ("campus", "power", "api"): "optional on the CLI only because --fleet replaces it; a campus needs a power",
    ("campus", "power", "sweep"): "as the API (the sweep has no --fleet)",
    ("campus", "accelerator", "api"): "optional on the CLI only because --fleet replaces it",
    ("campus", "accelerator", "sweep"): "as the API",
    # --seed unset is seed 0; None tells a seed given where nothing is drawn, which is refused (hU47, hU49): serve's
    # API refuses it itself (hQ45), as collective's does (hE65: `estimate_collective`, None on every layer)
    ("serve", "seed", "web"): "None on the CLI: 0 unless --seed is given where nothing is drawn (refused)",
    # the CLI tells a flag given from its default by click's parameter source; the web's null is "not given" (its
    # result cache keys on the body with its defaults, so a default value could not say it): hR76
    ("reliability", "model", "web"): "null: llama3-405b's checkpoint as the CLI's default; with a plan refused, as "
                                     "the CLI's --plan without --model",
    ("reliability", "optimizer", "web"): "null: adam as the CLI's default; with a plan train's optimizer, as the "
                                         "CLI's --plan without --optimizer",
}
"""(command, CLI parameter, layer) -> why the default differs on purpose."""


def _target(path: str) -> Callable[..., Any]:
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)  # type: ignore[no-any-return]


def _cli_defaults(command: str) -> dict[str, Any]:
    click_command = typer.main.get_command(app).get_command(None, command)  # type: ignore[attr-defined]
    return {p.name: REQUIRED if p.required else p.default for p in click_command.params}


def _signature_defaults(function: Callable[..., Any]) -> dict[str, Any]:
    return {name: REQUIRED if p.default is inspect.Parameter.empty else p.default
            for name, p in inspect.signature(function).parameters.items()}


def _layer_defaults(command: str) -> dict[str, dict[str, Any]]:
    web = REQUESTS[command].model_fields
    sweep: dict[str, Any] = {}
    if command in SWEEP:
        sweep = _signature_defaults(_target(SWEEP[command]))
    elif command in FUNCTIONS:
        sweep = _signature_defaults(resolve_callable(command))
    return {"api": _signature_defaults(_target(API[command])),
            "web": {n: REQUIRED if f.is_required() else f.default for n, f in web.items()},
            "sweep": sweep}


def _norm(value: Any) -> Any:
    """One default, comparable across layers: '64,256', [64, 256] and (64, 256) are one list of values."""
    if isinstance(value, str) and "," in value:
        return tuple(int(v) if v.strip().isdigit() else v.strip() for v in value.split(","))
    if isinstance(value, list | tuple):
        return tuple(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _mismatches(command: str) -> list[str]:
    cli = _cli_defaults(command)
    layers = _layer_defaults(command)
    found: list[str] = []
    for name, default in cli.items():
        for layer in LAYERS:
            params = layers[layer]
            if layer == "sweep" and not params:
                continue  # the command is not a sweep function (recsys, video)
            if layer in NOT_TAKEN.get((command, name), ("", ""))[0].split():
                if RENAMED.get((command, name, layer), name) in params:
                    found.append(f"{command} {name}: {layer} takes it now; drop it from NOT_TAKEN")
                continue
            other = RENAMED.get((command, name, layer), name)
            if other not in params:
                found.append(f"{command} --{name.replace('_', '-')}: {layer} does not take it")
                continue
            theirs = params[other]
            if (command, name) in NEGATED and isinstance(theirs, bool):
                theirs = not theirs
            if name == "schedule" and theirs == ():
                theirs = None  # no schedule named: the stack's
            same = _norm(theirs) == _norm(default)
            if same == ((command, name, layer) in DEFAULTS_DIFFER):
                found.append(f"{command} {name}: CLI {default!r}, {layer} {params[other]!r}"
                             + (" (listed as differing, but agrees)" if same else ""))
    web_names = {RENAMED.get((command, name, "web"), name) for name in cli}
    found += [f"web {command} field {field!r} is no CLI option" for field in layers["web"] if field not in web_names]
    return found


@pytest.mark.parametrize("command", sorted(API))
def test_cli_api_web_sweep_defaults_agree(command: str) -> None:
    assert _mismatches(command) == []


def test_search_compares_dtypes_by_default_as_the_cli() -> None:
    """`search` on one GPU count names the best plan in each other precision (cli/commands/search.py:
    `compare_dtypes=len(counts) == 1`; a scaling curve of several counts lists no choice), and so does the API's
    `search_plans` without the argument, the sweep's `search` (its signature) and the web's one-count search
    (web/runners.py, as the CLI). hU67: the API's default was False, its `dtype_choice.alternative` null where the
    CLI's named the other precision's best: the same question, two answers."""
    from infraplan.training.search import search_plans

    assert inspect.signature(search_plans).parameters["compare_dtypes"].default is True
    assert _signature_defaults(resolve_callable("search"))["compare_dtypes"] is True
    out = CliRunner().invoke(app, ["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len",
                                   "4096", "--global-batch", "64", "--top", "1", "--json"])
    assert out.exit_code == 0, out.output
    cli = json.loads(out.output)["dtype_choice"]
    api = json.loads(search_plans("llama3-8b", "dgx-h100-superpod", 8, 4096, 64, top=1).model_dump_json())
    assert cli["alternative"] is not None and api["dtype_choice"] == cli


def test_api_vpp_default_is_the_clis_choice() -> None:
    """`estimate_training` without vpp chooses the interleave `train` without --vpp chooses (it ran vpp 1)."""
    args: dict[str, Any] = {"tp": 8, "pp": 4, "seq_len": 8192, "global_batch": 128}
    api = estimate_training("llama3-70b", "h100-sxm", 64, **args)
    out = CliRunner().invoke(app, ["train", "llama3-70b", "--system", "h100-sxm", "--gpus", "64", "--tp", "8",
                                   "--pp", "4", "--seq-len", "8192", "--global-batch", "128", "--json"])
    assert out.exit_code == 0, out.output
    cli = json.loads(out.output)
    assert api.config.vpp == cli["config"]["vpp"] == 10
    assert api.step_time_s == cli["step_time_s"]
    assert any("--vpp not given" in n for n in api.notes)
    assert estimate_training("llama3-70b", "h100-sxm", 64, vpp=1, **args).step_time_s > api.step_time_s * 1.02


def test_sweep_collective_takes_the_clis_options() -> None:
    """The sweep's `collective` = `infraplan collective` with --fabric, --sharp, --failed-links and an accelerator
    preset beyond its 8-GPU node (refused before: the CLI sizes the cluster with `for_gpus`)."""
    cases: list[tuple[list[str], dict[str, Any]]] = [
        ([], {}), (["--fabric", "rail-only"], {"fabric": "rail-only"}), (["--sharp"], {"sharp": True}),
        (["--sim", "flow", "--failed-links", "spine:1"], {"sim": "flow", "failed_links": "spine:1"})]
    for extra, kwargs in cases:
        out = CliRunner().invoke(app, ["collective", "all-reduce", "--system", "dgx-h100-superpod", "--gpus", "256",
                                       "--bytes", "64MiB", *extra, "--json"])
        assert out.exit_code == 0, out.output
        swept = collective("all-reduce", "dgx-h100-superpod", 256, "64MiB", **kwargs)
        assert swept.model_dump(mode="json") == json.loads(out.output)
    out = CliRunner().invoke(app, ["collective", "all-reduce", "--system", "h100-sxm", "--gpus", "64", "--bytes",
                                   "1GiB", "--json"])
    assert collective("all-reduce", "h100-sxm", 64, "1GiB").model_dump(mode="json") == json.loads(out.output)


def test_no_interleave_chosen_for_a_stack_without_it() -> None:
    """`train` without --vpp on DeepSpeed (pipeline_schedules [1f1b]) runs its 1F1B, not an interleave the stack
    refuses (it chose 10 virtual stages, then noted the plan "outside the stack")."""
    out = CliRunner().invoke(app, ["train", "llama3-70b", "--system", "dgx-h100-superpod", "--gpus", "64", "--tp", "8",
                                   "--pp", "4", "--seq-len", "4096", "--global-batch", "128", "--recompute", "full",
                                   "--zero", "1", "--stack", "deepspeed", "--json"])
    assert out.exit_code == 0, out.output
    cli = json.loads(out.output)
    assert cli["config"]["vpp"] == 1 and cli["config"]["schedule"] == "1f1b"
    assert not any("outside the stack" in n for n in cli["notes"])


class _FormControls(HTMLParser):
    """The named controls of one form of a page (web/static/PAGE.html): name -> (tag, attributes, options as
    [(value, selected)])."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.option = form_id, False, None
        self.controls: dict[str, tuple[str, dict[str, str | None], list[list[Any]]]] = {}
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        elif self.inside and tag in ("input", "select") and a.get("name"):
            self.controls[str(a["name"])] = (tag, a, [])
            self.select = str(a["name"]) if tag == "select" else None
        elif self.inside and tag == "option" and self.select is not None:
            self.option = [a.get("value"), "selected" in a]
            self.controls[self.select][2].append(self.option)

    def handle_data(self, data: str) -> None:
        if self.option is not None and self.option[0] is None:  # an <option> without value: its text is its value
            self.option[0] = data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "option":
            self.option = None


def page_form(page: str, form_id: str) -> dict[str, tuple[str, dict[str, str | None], list[list[Any]]]]:
    """The named controls of form `form_id` on the page `page` (`_FormControls`)."""
    parser = _FormControls(form_id)
    parser.feed((resources.files("infraplan.web") / "static" / f"{page}.html").read_text(encoding="utf-8"))
    return parser.controls


def page_body(page: str, form_id: str) -> dict[str, Any]:
    """The body the page posts for its form untouched, as `IP.body` builds it (app.js): an empty field left out (the
    API's default applies), a number field (or a `data-number` select) a number, a catalog select its `data-value`,
    a `data-enum` select the API schema's default (`IP.enums` fills it so), another select its selected option; file
    slots and `data-skip` fields (the page's own, such as a list of accelerators to compare) are not in it."""
    models = {cls.__name__: cls for cls in REQUESTS.values()}
    body: dict[str, Any] = {}
    for name, (tag, attrs, options) in page_form(page, form_id).items():
        if "data-skip" in attrs or attrs.get("type") in ("file", "checkbox"):
            continue  # a checkbox is posted only when changed from its initial state (IP.body)
        if "data-enum" in attrs:
            model, _, field = str(attrs["data-enum"]).partition(".")
            value = models[model].model_fields[field].default
        elif tag == "select":
            chosen = [v for v, selected in options if selected] or [v for v, _ in options[:1]]
            value = attrs.get("data-value") or (chosen[0] if chosen else "")
        else:
            value = (attrs.get("value") or "").strip()
        if value:
            body[name] = _js_number(value) if attrs.get("type") == "number" or "data-number" in attrs else value
    return body


def _js_number(text: str) -> int | float:
    """A number field's value as the browser posts it (`Number(text)` through `JSON.stringify`): 64 and "64.0" are
    the JSON integer 64, which an integer field takes (a web body is strict: 64.0 is refused there, hE65)."""
    value = float(text)
    return int(value) if value.is_integer() else value


PAGES = {"recsys": ("recsys", "recsys-form"), "video": ("video", "video-form"), "train": ("train", "train-form"),
         "serve": ("serve", "serve-form"), "network": ("network", "net-form"), "collective": ("network", "coll-form"),
         "facility": ("facility", "fac-form"), "campus": ("facility", "campus-form"),
         "reliability": ("facility", "rel-form")}
"""Command -> (its page, the form that runs it): the pages whose forms are held to the CLI's options and defaults."""
ONE_OF_REQUIRED: dict[tuple[str, str], tuple[list[str], str]] = {
    # (command, CLI parameter) -> (a CLI line without the group, the CLI's refusal): optional flags of which the CLI
    # needs one, so the page preselects its example as it does a required option's (hJ64)
    ("serve", "workload"): (["serve", "llama3-8b", "--system", "h100-sxm", "--gpus", "8", "--rate", "2"],
                            "give exactly one of --input-len/--output-len, --workload or --trace"),
    # the page's list of rates, one `serve --rate R` each (a sweep); offline or concurrency with the list emptied
    ("serve", "rate"): (["serve", "llama3-8b", "--system", "h100-sxm", "--gpus", "8", "--workload", "chat"],
                        "give exactly one of --offline, --rate QPS or --concurrency N"),
}
"""(command, CLI parameter) -> why the page preselects an option the CLI has no default for."""
CHOSEN: dict[tuple[str, str], str] = {
    ("network", "system"): "SYSTEM or --system: the CLI refuses neither ('give the system once')",
    ("facility", "system"): "--system, or --accelerator with --count: the CLI refuses neither",
    ("campus", "power"): "--power and --accelerator, or --fleet: the CLI refuses neither",
    ("campus", "accelerator"): "--power and --accelerator, or --fleet: the CLI refuses neither",
}
"""(command, CLI parameter) -> why: options typer holds optional (None) that the CLI does not run without (one of a
few ways to say what to size); their page preselects an example, as for a required option (hK64)."""


def _page_mismatches(command: str) -> list[str]:
    """Where the page's form for `command` (`PAGES`) differs from the CLI's options and defaults, one line each."""
    page, form_id = PAGES[command]
    controls = page_form(page, form_id)
    body = page_body(page, form_id)
    web = REQUESTS[command].model_fields
    named = {n for n, (_, attrs, _) in controls.items() if "data-skip" not in attrs and attrs.get("type") != "file"}
    uploads = {attrs.get("data-upload") for _, attrs, _ in controls.values() if attrs.get("type") == "file"}
    found = [f"/{page}'s {n!r} is no {command} request field" for n in sorted(named - set(web))]
    found += [f"/{page} uploads {n!r}, which takes no file" for n in sorted(str(u) for u in uploads)
              if n not in web or not takes_upload(web[n].annotation)]
    for name, default in _cli_defaults(command).items():
        if "web" in NOT_TAKEN.get((command, name), ("", ""))[0].split() or name == "as_json":
            continue
        field = RENAMED.get((command, name, "web"), name)
        enum = f"{REQUESTS[command].__name__}.{field}"  # a select the page fills with this field's choices
        if field not in named:
            found.append(f"--{name.replace('_', '-')}: no control {field!r} on /{page}")
        elif default is REQUIRED or (command, name) in ONE_OF_REQUIRED or (command, name) in CHOSEN:
            if field not in body:
                found.append(f"{field}: required on the CLI, not preselected on /{page}")
        elif controls[field][1].get("type") == "checkbox":  # IP.body posts a box only where it was changed
            if ("checked" in controls[field][1]) != bool(default):
                found.append(f"{field}: CLI {default!r}, /{page}'s box {'un' * bool(default)}checked")
        elif field in body and _norm(body[field]) != _norm(default):
            found.append(f"{field}: CLI {default!r}, /{page} {body[field]!r}")
        elif controls[field][1].get("data-enum", enum) != enum:
            found.append(f"{field}: /{page} fills it from another field's choices")
    return found


@pytest.mark.parametrize("command", sorted(PAGES))
def test_page_form_takes_the_clis_options_and_defaults(command: str) -> None:
    """The page's form has a control for every option the web takes (or an upload slot for it), names only request
    fields, and posts the CLI's default for every option with one: left empty (the API's default, which the test
    above holds to the CLI's) or written as the CLI's. A required option is preselected (the page's example)."""
    assert _page_mismatches(command) == []


@pytest.mark.parametrize("key", sorted(ONE_OF_REQUIRED))
def test_a_page_preselects_only_what_the_cli_needs(key: tuple[str, str]) -> None:
    """An option listed in ONE_OF_REQUIRED has no CLI default, and the CLI refuses a line without its group."""
    command, name = key
    line, refusal = ONE_OF_REQUIRED[key]
    assert _cli_defaults(command)[name] is None
    out = CliRunner().invoke(app, line)
    assert out.exit_code != 0 and refusal in f"{out.exception} {out.output}", out.output  # main() exits 2 on it


SELECT_FORMS = {**PAGES, "fleet-mix": ("fleet-mix", "fleet-form")}
"""Command -> (its page, its form): the forms whose <select>s are held to the CLI's choices (`_select_mismatches`)."""
WEB_CHOICES_ONLY: dict[tuple[str, str], str] = {
    ("train", "zero"): "the CLI reads 0-3 as a count (ZERO_STAGE, 'ZeRO stage 0-3'): the request field's bounds",
    ("train", "lora_targets"): "its help says 'attention (Q, K, V, O) | all (...)', no plain list: the request "
                               "field's Literal",
    ("serve", "engine"): "'old alias of --stack': the request field's Literal (trtllm, vllm, sglang)",
    ("video", "device"): "a preset name, no choice list: the devices video runs on (test_recsys_video_pages_hE64)",
    ("video", "baseline"): "as --device, and 'none'",
}
"""(command, option) -> why a page's select is held to the request field's choices, not a list the CLI states."""
_HELP_LIST = re.compile(r"^([a-z0-9.-]+(?: \| [a-z0-9.-]+)+)(?=$|[: (\[])")


def cli_choices(command: str, name: str) -> list[str] | None:
    """The choices the CLI states for an option: what it completes (a Literal, or a completer such as --cooling's),
    else the list its help opens with ("clos | rail-only [default: ...]"); None where it states none."""
    click_command = typer.main.get_command(app).get_command(None, command)  # type: ignore[attr-defined]
    param = next(p for p in click_command.params if p.name == name)
    offered = [c.value for c in param.shell_complete(click.Context(click_command), "")]
    listed = _HELP_LIST.match(getattr(param, "help", None) or "")
    return offered or (listed.group(1).split(" | ") if listed else None)


def _field_choices(model: type[Any], field: str) -> list[str]:
    """The values a request field takes, as its select offers them: a Literal's, or a small int range's (ZeRO)."""
    info = model.model_fields[field]
    for arg in (info.annotation, *typing.get_args(info.annotation)):
        if typing.get_origin(arg) is typing.Literal:
            return [str(v) for v in typing.get_args(arg)]
    bounds = {type(m).__name__: m for m in info.metadata}
    return [str(v) for v in range(bounds["Ge"].ge, bounds["Le"].le + 1)]


def _select_mismatches(command: str) -> list[str]:
    """Where a select of the command's form offers other values than the CLI's choices for its option (a select
    written on the page, or filled from the API schema, `data-enum`), one line each; "" offered exactly where the
    option may be left out (the CLI's default None)."""
    from infraplan.web.fleet_mix import FleetMixRequest

    page, form_id = SELECT_FORMS[command]
    models = {cls.__name__: cls for cls in (*REQUESTS.values(), FleetMixRequest)}
    request = models["FleetMixRequest"] if command == "fleet-mix" else REQUESTS[command]
    cli = {RENAMED.get((command, n, "web"), n): (n, d) for n, d in _cli_defaults(command).items()}
    found = []
    for name, (tag, attrs, options) in page_form(page, form_id).items():
        if tag != "select" or {"data-catalog", "data-fleets", "data-skip"} & set(attrs):
            continue  # a catalog's presets, or the page's own (search's dtypes)
        option, default = cli[name]
        if "data-enum" in attrs:
            model, _, field = str(attrs["data-enum"]).partition(".")
            offered = _field_choices(models[model], field) + ([""] if models[model].model_fields[field].default
                                                                is None else [])
        else:
            offered = [str(v) for v, _ in options]
        if (command, option) in WEB_CHOICES_ONLY:
            choices = _field_choices(request, name) if command != "video" else [v for v in offered if v]
        else:
            choices = cli_choices(command, option) or []
            if not choices:
                found.append(f"/{page} {name}: the CLI states no choices for it (list it in WEB_CHOICES_ONLY)")
        # "" also where the web's null is the CLI's option left untyped (a DEFAULTS_DIFFER entry: reliability's
        # optimizer, adam untyped, train's with --plan, hR76; hV76: its "(default)" option failed this on land76)
        unset = "data-enum" in attrs and (command, option, "web") in DEFAULTS_DIFFER and "" in offered
        choices = choices + ([""] if default is None or unset else [])
        if sorted(offered) != sorted(choices):
            found.append(f"/{page} {name}: offers {sorted(offered)}, the CLI {sorted(choices)}")
    return found


@pytest.mark.parametrize("command", sorted(SELECT_FORMS))
def test_each_select_offers_the_clis_choices(command: str) -> None:
    """Every <select> of a form (hand-written, or filled from the API's schema) offers the CLI's choices for its
    option, no more and no fewer (hE65: facility's cooling was written on the page, held to nothing)."""
    assert _select_mismatches(command) == []
