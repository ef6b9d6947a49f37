"""`infraplan schema COMMAND`: the JSON Schema of what `infraplan COMMAND --json` prints.

Every command's output is a typed result (a subclass of `infraplan.results.Result`); `RESULT_MODELS` maps each
command to its model as "module:Name" (imported lazily, so the CLI starts fast). A name may be a union of models
(`serve`: LLM or diffusion). `SparseResult` fields with a default may be absent from the JSON; every other
field is always present, so the schema requires exactly the fields without a default.
"""

from __future__ import annotations

import difflib
import importlib
import json
from typing import Any

import typer
from pydantic import TypeAdapter

from infraplan.catalog.output_files import shown_path
from infraplan.cli.options import JsonFlag
from infraplan.errors import InputError

RESULT_MODELS: dict[str, str] = {
    "train": "infraplan.training.results:TrainingEstimate",
    "train --tokens": "infraplan.planning.results:TrainingRunResult",
    "search": "infraplan.training.results:PlanSearchResult",
    "search --gpus A,B": "infraplan.training.results:ScalingResult",
    "search --tokens": "infraplan.planning.results:SearchRunResult",
    "serve": "infraplan.serving.results:ServeResult",
    "serve-plan": "infraplan.serving.results:ServingPlanResult",
    "recsys": "infraplan.recsys.results:RecsysEstimate",
    "video": "infraplan.video.results:VideoEstimate",
    "network": "infraplan.network.results:NetworkReport",
    "collective": "infraplan.network.results:CollectiveResult",
    "validate": "infraplan.validation.results:ValidationReport",
    "facility": "infraplan.facility.results:FacilityReport",
    "reliability": "infraplan.facility.results:ReliabilityReport",
    "campus": "infraplan.planning.results:CampusPlan",
    "campus --fleet": "infraplan.planning.results:FleetSitesResult",
    "fleet-mix": "infraplan.planning.fleet_mix_results:FleetMixResult",
    "sweep": "infraplan.sweep.results:SweepRun",
    "results": "infraplan.sweep.results:SweepQuery",
    "plan": "infraplan.planning.scenario_results:ScenarioPlan",
    "compare": "infraplan.planning.scenario_results:ScenarioComparison",
    "catalog": "infraplan.catalog.index:CatalogListing",
}
"""Command (or command variant) -> "module:Name" of the result model its `--json` prints."""


def result_model(command: str) -> Any:
    """The model (or union type) of a command's result; InputError with a did-you-mean if unknown."""
    ref = RESULT_MODELS.get(command)
    if ref is None:
        close = difflib.get_close_matches(command, RESULT_MODELS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(RESULT_MODELS)}"
        raise InputError(f"no command {shown_path(command)!r}{hint}")
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def json_schema(command: str) -> dict[str, Any]:
    """The JSON Schema of `infraplan COMMAND --json`.

    Generated in validation mode: `Result`'s serializer (non-finite floats -> null) hides the fields from
    pydantic's serialization-mode schema, and the two modes list the same fields here (no computed fields, no
    aliases). A field with a default is optional in this schema, as it may be absent from `SparseResult` JSON.
    `catalog` adds `entry_schemas`, what a file of each kind holds (`catalog.entry_schemas`: every field with its
    meaning and unit); `catalog KIND` is that kind's alone (hW47: the listing was all `schema catalog` said).
    """
    head, space, kind = command.partition(" ")
    if head == "catalog" and space:  # `schema catalog ""` was "no command 'catalog '; did you mean 'catalog'?" (hX50)
        return _entry_schema(kind.strip())
    model = result_model(command)
    schema: dict[str, Any] = TypeAdapter(model).json_schema(mode="validation")
    schema.setdefault("title", command)
    if command == "catalog":
        from infraplan.catalog.entry_schemas import ENTRY_MODELS, entry_schema

        schema["entry_schemas"] = {kind: entry_schema(kind) for kind in ENTRY_MODELS}
    return schema


def _entry_schema(kind: str) -> dict[str, Any]:
    from infraplan.catalog.entry_schemas import ENTRY_MODELS, entry_schema

    if kind not in ENTRY_MODELS:
        close = difflib.get_close_matches(kind, ENTRY_MODELS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"no catalog kind {shown_path(kind)!r}{hint}; known: {', '.join(ENTRY_MODELS)}")
    return entry_schema(kind)


CONTEXT_SETTINGS = {"ignore_unknown_options": True}
"""click's settings for `schema`: a variant's option (`train --tokens`) is a word of the command, not an option of
`schema`, so `infraplan schema train --tokens` needs no quotes (it was "No such option: --tokens"); `main.load_command`
reads it."""


def schema(
    command: list[str] | None = typer.Argument(None, help="command (or variant: train --tokens, campus --fleet, "
                                               "search --gpus A,B) whose --json output to describe (see --list); "
                                               "catalog KIND: what a file of that kind holds"),
    list_commands: bool = typer.Option(False, "--list", help="list the commands with a result schema"),
    as_json: JsonFlag = False,  # the schema is JSON either way: `schema catalog --json` was "no command"
) -> None:
    """Print the JSON Schema of a command's --json output."""
    if list_commands:
        listing = {**RESULT_MODELS, "catalog KIND": "what a file of one catalog kind holds (infraplan.catalog."
                   "entry_schemas)"}
        if as_json:  # --json: the listing as one JSON object, command -> result model
            print(json.dumps(listing, indent=2))
            return
        for name, ref in listing.items():
            print(f"{name}\t{ref}")
        return
    if not command:
        raise InputError("give a command (infraplan schema --list lists them)")
    print(json.dumps(json_schema(" ".join(command)), indent=2))


def register(app: typer.Typer) -> None:
    app.command("schema")(schema)
