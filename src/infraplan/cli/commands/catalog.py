"""`infraplan catalog [KIND [NAME]]`: what the shipped presets are called (catalog/index.py).

Every other command takes preset names (`--system`, models, `--stack`, `--workload`, `--location`, ...); this one
lists them, with each entry's display name and `source:`, so a planner need not guess a name to read the
did-you-mean. With a NAME it prints that preset's data (the file as parsed), always as JSON. With a FILE of the kind
(an accelerator, a system, a model's config.json, a stack, a workload, ...) it prints what the other commands read
from it, in SI units: a what-if's figures after its `extends:` (hU54 found `catalog accelerators FILE` refused,
"unknown accelerators entry", so a user could not see what their file resolves to).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import typer
from rich.table import Table

from infraplan.catalog.facility_loader import load_build_type, load_cooling, load_fleet, load_location
from infraplan.catalog.index import CatalogKind, CatalogListing, entry, kinds, list_kind
from infraplan.catalog.inference_loader import load_recsys_model, load_recsys_profile_file, load_video_device
from infraplan.catalog.loader import load_accelerator, load_model, looks_like_path
from infraplan.catalog.reliability_loader import load_failure_rate
from infraplan.catalog.serving_loader import load_diffusion_model, load_workload
from infraplan.catalog.stacks import load_stack
from infraplan.cli.commands._output import console, emit
from infraplan.cli.options import JsonFlag
from infraplan.cluster.cluster import read_system

SOURCE_CHARS = 70  # the human table cuts a source to this many characters (--json has it whole)
FILE_READERS: dict[str, Callable[[str], Any]] = {
    "accelerators": load_accelerator, "systems": read_system, "models": load_model, "stacks": load_stack,
    "workloads": load_workload, "diffusion": load_diffusion_model, "recsys": load_recsys_model,
    "recsys-devices": load_recsys_profile_file, "video-devices": load_video_device, "fleets": load_fleet,
    "locations": load_location, "cooling": load_cooling, "build-types": load_build_type,
    "failure-rates": load_failure_rate}
"""Kind (every kind of `catalog.index.kinds()`) -> the loader the commands read a user's file of that kind with."""


def render_catalog(listing: CatalogListing) -> None:
    if len(listing.kinds) > 1:
        table = Table(title="catalog kinds (infraplan catalog KIND lists one)")
        for col in ("kind", "entries", "names"):
            table.add_column(col, overflow="fold")
        for k in listing.kinds:
            table.add_row(k.kind, str(len(k.entries)), ", ".join(e.name for e in k.entries))
        console.print(table)
        return
    kind = listing.kinds[0]
    if kind.kind == "models":
        render_models(kind)
        return
    table = Table(title=f"{kind.kind} ({len(kind.entries)}; infraplan catalog {kind.kind} NAME prints one)")
    for col in ("name", "display name", "source"):
        table.add_column(col, overflow="fold")
    for e in kind.entries:
        source = e.source or "-"
        table.add_row(e.name, e.display_name or "-",
                      source if len(source) <= SOURCE_CHARS else source[:SOURCE_CHARS - 3] + "...")
    console.print(table)


def render_models(kind: CatalogKind) -> None:
    """The model presets as the commands read them (hW59: config.json files carry no display name, so the listing
    was a column of "-"): family, total and active parameters, layers, context; each one's source with its NAME."""
    table = Table(title=f"models ({len(kind.entries)}; infraplan catalog models NAME prints one, with its source)")
    for col in ("name", *MODEL_COLUMNS):
        table.add_column(col, no_wrap=True, justify="left" if col in ("name", "family") else "right")
    for e in kind.entries:
        table.add_row(e.name, e.family or "-", _params(e.total_parameters), _params(e.active_parameters),
                      f"{e.layers}" if e.layers else "-", f"{e.context_tokens:,}" if e.context_tokens else "-")
    console.print(table)
    console.print(ACTIVE_CONVENTION, markup=False, highlight=False, soft_wrap=True)


ACTIVE_CONVENTION = ("active: parameters a token touches, the input embedding counted (as DeepSeek, Qwen and Mistral "
                     "publish them); OpenAI's gpt-oss card leaves it out (--json: "
                     "active_parameters_without_input_embedding)")
"""One rule for the `active` column, named under it (hV77: gpt-oss-120b 5.71 B beside its card's 5.13 B, no
word why)."""


MODEL_COLUMNS = ("family", "params", "active", "layers", "context")


def _params(count: int | None) -> str:
    """A parameter count in billions, or trillions from 1e12 (3 significant figures)."""
    if count is None:
        return "-"
    return f"{count / 1e12:.3g} T" if count >= 1e12 else f"{count / 1e9:.3g} B"


def catalog(
    kind: str | None = typer.Argument(None, help=f"one kind: {', '.join(kinds())} [every kind]"),
    name: str | None = typer.Argument(None, help="one preset of the kind: print its data as JSON; or a file "
                                      "of the kind: what the commands read from it (SI units)"),
    as_json: JsonFlag = False,
) -> None:
    """List the shipped presets (systems, accelerators, models, stacks, workloads, locations, ...) by name."""
    if name is not None and kind in FILE_READERS and looks_like_path(name):
        print(json.dumps(FILE_READERS[kind](name).model_dump(mode="json"), indent=2))
        return
    if name is not None:
        print(json.dumps(entry(str(kind), name), indent=2, default=str))
        return
    listing = CatalogListing(kinds=[list_kind(k) for k in ([kind] if kind else kinds())])
    emit(listing, as_json, render_catalog)


def register(app: typer.Typer) -> None:
    app.command("catalog")(catalog)
