"""The HTTP API's request field types and the request model every command's body extends (`WebRequest`).

Catalog references are preset names (`PresetName`: no `/`, no file suffix, no `..`) or, where the CLI takes a user's
file for them (`CatalogRef`: model, system, accelerator, stack, workload, location, fleet, video device, failure
rate), an uploaded file (`UploadedFile`, web/uploads.py): the web reads no file on the server. `WebRequest` refuses
unknown fields and JSON booleans given for numbers (the catalog specs' rule, `catalog.spec_base.numeric_field`, since
hX60), and gives the `infraplan ...` command line that reproduces a request (`cli()`, "copy as CLI command"). The
commands' request models, with their bounds from `infraplan.limits`, are in `web.requests` (which re-exports these
names). Moved out of web/requests.py (hY2, session 38).

How a field's CLI help reads on the web (`web_words`, which `web.request_descriptions` applies to the words it copies
from the CLI): the web reads no file, so the words offering a path or a YAML file (`FILE_WORDS`) are dropped, those of
a file it takes as an upload (`UPLOAD_WORDS`: model, system, stack, workload, location ...) say so, and this command's
`--flag` is the request's field name (`COMMANDS`: a flag written after another command's name stays as the CLI
writes it). Moved here from web/request_descriptions.py (hE62).
"""

from __future__ import annotations

import json
import math
import re
import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from infraplan.catalog.spec_base import holds_bool, numeric_field
from infraplan.errors import InputError
from infraplan.limits import (
    MAX_ARRIVAL_RATE_PER_S,
    MAX_PUE,
    MIN_ARRIVAL_RATE_PER_S,
    MIN_PUE,
    ElectricityUsdPerMwh,
    Seconds,
    read_electricity_price,
)
from infraplan.planning.fields_read import CLI_OPTION
from infraplan.training.enums import Schedule
from infraplan.units import (
    BARE_REPAIR_FLOOR_S,
    BARE_SLO_CEILING_S,
    QUANTITY_TEXT,
    parse_bytes,
    parse_duration_days,
    parse_duration_s,
    parse_power_w,
    parse_tokens,
    slo_unit_slip,
)

if TYPE_CHECKING:
    ScheduleName = str
else:  # every schedule of training/schedules.py PIPELINE_SCHEDULES (keyed by the Schedule enum), as the CLI's
    ScheduleName = Literal[Schedule.labels()]

_PATH_SUFFIXES = (".yaml", ".yml", ".json", ".csv")

COMMANDS = ("train", "search", "serve", "serve-plan", "recsys", "video", "network", "collective", "facility", "campus",
            "reliability", "plan", "compare")
"""The commands with a web request (a test keeps it equal to `web.requests.REQUESTS`): a flag written after one of
them (`facility --pue`, `train --sharp`) is that command's and is left as the CLI writes it."""
FILE_WORDS = (" or path to an HF config.json", " or HF config.json", " or path to a system YAML", ", system YAML,",
              " or a stack YAML", " | path to a workload YAML", " | YAML", " or YAML path", " or YAML file",
              " or YAML of sites", " or a YAML file", " or a device YAML", " or YAML", " or file",
              " (or give it as --system)", "; not with --trace", " a trace: all;")
"""CLI words the web drops, longest first: the file a CLI option may take instead of a preset (the web reads none),
and `serve --trace`, which the web does not offer (a test refuses any "YAML", "path to" or "trace" left over)."""
UPLOAD_WORDS = ((" or path to an HF config.json", " or an uploaded HF config.json"),
                (" or HF config.json", " or an uploaded HF config.json"),
                (" or path to a system YAML", " or an uploaded system YAML"),
                (", system YAML,", ", an uploaded system YAML,"),
                (" or a stack YAML", " or an uploaded stack YAML"),
                (" or YAML path", " or an uploaded accelerator YAML"),  # recsys / facility / campus --accelerator
                (" | path to a workload YAML", " | an uploaded workload YAML"),
                (" | YAML", " | an uploaded workload YAML"),  # serve-plan --workload, the one upload field saying so
                (" or a device YAML", " or an uploaded device YAML"),  # video --device, --baseline
                (" or YAML of sites", " or an uploaded YAML of sites"),  # campus --fleet
                (" or YAML file", " or an uploaded YAML file"), (" or a YAML file", " or an uploaded YAML file"),
                (" or YAML", " or an uploaded YAML file"), (" or file", " or an uploaded YAML file"))
"""CLI words of a file the web takes as an upload (`request_fields.CatalogRef`: model, system, accelerator, stack,
workload, location, fleet, video device, failure rate, recsys model), as the web states them, longest first, before
`FILE_WORDS` drops the rest."""


def web_words(cli_help: str, fields: dict[str, str], uploads: bool = False) -> str:
    """`cli_help` as the web states it: `FILE_WORDS` dropped, each `--flag` of this command (`fields`: flag -> field,
    `WebRequest.cli_names` inverted; `--prefill-*` too) written as its field, a flag after a command name kept.
    `uploads`: the field takes an uploaded file (`request_fields.takes_upload`): its file words say so
    (`UPLOAD_WORDS`)."""
    text = cli_help
    for words, web in UPLOAD_WORDS if uploads else ():
        text = text.replace(words, web)
    for words in FILE_WORDS:
        text = text.replace(words, "")

    def field(match: re.Match[str]) -> str:
        before = text[:match.start()].split()
        name = fields.get(match.group(0))
        if before and before[-1].strip("`(") in COMMANDS:
            return match.group(0)
        if name is None and match.group(1).endswith("*"):
            name = match.group(1).replace("-", "_")
        return name or match.group(0)

    return CLI_OPTION.sub(field, text)



def _no_file(name: str) -> str:
    if name.lower().endswith(_PATH_SUFFIXES) or ".." in name:
        raise ValueError("a preset name, not a file: the web API reads no files")
    return name


PresetName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$",
                                  description="catalog preset name (GET /api/catalog/... lists them)"),
                       AfterValidator(_no_file)]
WEB_MAX_UPLOAD_CHARS = 60_000
"""Characters of one uploaded catalog file (a config.json is 1-5 kB, a system or stack YAML 0.5-4 kB; the body's
64 KiB bound, web/app.py MAX_BODY_BYTES, holds them)."""


STRICT_BODY = ConfigDict(extra="forbid", frozen=True, strict=True)
"""Every request body's rule (`WebRequest`, `UploadedFile`, a scenario or fleet input): unknown fields refused, and
each value of its JSON type as the CLI's option is of its type: a count takes a JSON integer (not "8", 8.0 or true),
a number a JSON number, a flag true or false, a list a JSON list (pydantic strict mode). Text a field reads as the
CLI reads it (a duration "50ms", a power "1GW", a price "70/MWh", serve's tp "auto") is read by the field's own
before-validator first (hE65: `"gpus": "8"` ran as 8 GPUs, `"sharp": "yes"` as true)."""


class UploadedFile(BaseModel):
    """A user's file in place of a preset: an HF config.json for the model, an accelerator or system YAML for the
    system, a stack YAML for the stack, a workload, location, fleet, failure-rate, recsys model or video device YAML
    for those; read by the catalog's loaders as the CLI reads the file of that name (web/uploads.py), the files it
    names (`extends`, `accelerator`, `recsys_profile`, a fleet site's `system` ...: `uploads.FILE_KEYS`) being
    presets."""

    model_config = STRICT_BODY

    text: Annotated[str, Field(max_length=WEB_MAX_UPLOAD_CHARS, description="the file's text, YAML or JSON")]
    filename: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*\.(json|yaml|yml)$",
                                   description="the file's name (.json, .yaml or .yml: JSON or YAML, as the CLI "
                                   "reads it), for its name, messages and the CLI line only (never opened)")]


def takes_upload(annotation: Any) -> bool:
    """Whether a field's type takes an `UploadedFile` (`CatalogRef`, optional or not)."""
    return annotation is UploadedFile or any(takes_upload(a) for a in get_args(annotation))


CatalogRef = PresetName | UploadedFile
"""A catalog reference the web takes as a preset name or an uploaded file (`UploadedFile`), where the CLI takes a
preset name or a path: train / search / serve / serve-plan's model, system and stack (train's location, serve's
workload), network / collective's system, recsys's model and accelerator (hU53: its accelerator), video's device and
baseline, facility / campus's system, accelerator (hU53), location and fleet, reliability's system, model and failure
rate (hX53: every catalog reference the CLI reads as a file)."""
Quantity = Annotated[str, Field(min_length=1, max_length=32, pattern=rf"^{QUANTITY_TEXT}$",
                                description="a number with a unit or prefix, e.g. 15.6T, 1GiB, 1GW, 20ms")]


def _reads_as(reader: Callable[..., float]) -> Callable[[object], object]:
    """A before-validator: text the CLI option's reader (units.py) refuses is refused in its words, naming the value as
    typed ("'-1GW' is negative; expected a power such as 1GW, 10MW or 700W"; hD58: the pattern's regex, "String
    should match pattern '^[0-9]...'"); readable text is kept as text, for the runner to read as the CLI does."""
    def check(value: object) -> object:
        if isinstance(value, str) and value:  # '' is min_length's
            try:
                reader(value)
            except InputError as exc:
                raise ValueError(str(exc)) from None
        return value

    return check


PowerText = Annotated[Quantity, BeforeValidator(_reads_as(parse_power_w))]  # campus --power, facility --rack-power
BytesText = Annotated[Quantity, BeforeValidator(_reads_as(parse_bytes))]  # collective --bytes, --checkpoint-size
CountText = Annotated[str, Field(min_length=1, max_length=40,  # train --tokens: '15.6T', '15.6T tokens' (hC71)
                                 pattern=rf"^{QUANTITY_TEXT}(\s+(?i:tok|tokens?))?$",
                                 description="a count of tokens, e.g. 15.6T or 15.6T tokens"),
                     BeforeValidator(_reads_as(parse_tokens))]
SequencesQuantity = Annotated[str, Field(min_length=1, max_length=40,
                                         pattern=r"^[0-9][0-9._]*(e[0-9]+)?[A-Za-z]*( ?[A-Za-z]+)?$",
                                         description="a count of sequences, or of tokens or steps with the word: "
                                         "24576, 50M tokens, 12 steps")]


def _read_text(reader: Callable[[str], float]) -> Callable[[object], object]:
    """A before-validator reading text with `reader`, the CLI option's own (units.py), a number left as given; an
    unreadable text is the reader's one line (a 422)."""
    def read(value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return reader(value)
        except InputError as exc:
            raise ValueError(str(exc).removeprefix("infraplan: error: ")) from None

    return read


_duration_s = _read_text(parse_duration_s)
"""A duration with its unit ("2s", "50ms"), as the CLI's --ttft-slo / --tpot-slo read it, in seconds; a number is
seconds (before, "2s" from a copied command line was a 422 "must be a valid number")."""
Duration = Annotated[Seconds, BeforeValidator(_duration_s),
                     Field(description="seconds, or a duration with its unit (e.g. 2s, 50ms)")]


def _slo_s(slo: str) -> Callable[[object], object]:
    """`_duration_s`, a bare number (JSON or text) above its ceiling refused as ms written for s, as the CLI's
    --ttft-slo / --tpot-slo / recsys --latency-slo (`units.slo_unit_slip`)."""
    def read(value: object) -> object:
        seconds = _duration_s(value)
        if isinstance(value, str | int | float) and not isinstance(value, bool) and isinstance(seconds, int | float):
            if isinstance(seconds, int) and abs(seconds) > 2**1023:  # float() overflowed: a 500 (hH70)
                raise ValueError("a number past a float's range (~1.8e308): not a finite duration")
            slip = slo_unit_slip(value, float(seconds), slo)
            if slip is not None:
                raise ValueError(slip)
        return seconds

    return read


TtftSlo = Annotated[Seconds, BeforeValidator(_slo_s("ttft")), Field(
    description="seconds, or a duration with its unit (e.g. 2s, 500ms); a bare number above 30 is refused as ms")]
TpotSlo = Annotated[Seconds, BeforeValidator(_slo_s("tpot")), Field(
    description="seconds, or a duration with its unit (e.g. 50ms); a bare number above 1 is refused as ms")]
RecsysSlo = Annotated[Seconds, BeforeValidator(_slo_s("recsys")), Field(
    description="seconds, or a duration with its unit (e.g. 20ms); a bare number above 0.5 is refused as ms")]
SLO_FIELDS = {"ttft_slo": "ttft", "tpot_slo": "tpot", "latency_slo": "recsys"}  # field -> its ceiling's key: `cli()`
# writes "45.0s" above it
RestartSeconds = Annotated[float, BeforeValidator(_duration_s), Field(
    ge=0.0, le=1e9, allow_inf_nan=False, description="seconds, or a duration with its unit (e.g. 10min), as the "
    "CLI's --restart-s")]
Days = Annotated[float, BeforeValidator(_read_text(parse_duration_days)), Field(
    gt=0.0, le=36_500.0, allow_inf_nan=False, description="days, or a duration with its unit (e.g. 54, 2w, 12h), "
    "as the CLI's --days")]
ArrivalRate = Annotated[float, Field(ge=MIN_ARRIVAL_RATE_PER_S, le=MAX_ARRIVAL_RATE_PER_S,
                                      allow_inf_nan=False)]  # requests/s, as the CLI's ARRIVAL_RATE



def _electricity_price(value: Any) -> Any:
    """The CLI's --electricity-price rule (`limits.read_electricity_price`): '70/MWh' or '0.07/kWh' read as written,
    a bare number as USD/MWh; a USD/kWh slip or a bare 1 .. 10 (a price in either unit) refused in one line."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return value  # the number check refuses it in pydantic's words
    try:
        return read_electricity_price(value, "electricity_price")[0]
    except InputError as exc:
        raise ValueError(str(exc)) from None


# USD/MWh inside, as the CLI's USD_PER_MWH; `cli()` writes it back with its unit ('70/MWh': no bare-number warning)
Pue = Annotated[float, Field(ge=MIN_PUE, le=MAX_PUE, allow_inf_nan=False)]  # facility / IT power (`limits.MAX_PUE`)
UsdPerMwh = Annotated[ElectricityUsdPerMwh, BeforeValidator(_electricity_price, json_schema_input_type=float | str)]
PRICE_FIELDS = ("electricity_price",)
Cooling = Literal["air", "liquid", "immersion"]  # the CLI's COOLING
BuildType = Literal["hyperscale", "low-cost", "high-cost", "ai-campus"]  # the CLI's BUILD_TYPES


class WebRequest(BaseModel):
    """A command's inputs: unknown fields are refused, values strictly typed (`STRICT_BODY`); `cli()` gives the
    equivalent command line."""

    model_config = STRICT_BODY

    command: ClassVar[str] = ""
    """The CLI command (and the endpoint: POST /api/COMMAND)."""
    positional: ClassVar[tuple[str, ...]] = ()
    """Fields the CLI takes as arguments, in order."""
    flags: ClassVar[dict[str, str]] = {}
    """Field -> CLI flag where it is not `--field-name`."""

    @model_validator(mode="before")
    @classmethod
    def _no_bool_as_number(cls, data: Any) -> Any:
        """JSON `true` is not the number 1: pydantic's lax mode would read `"gpus": true` as one GPU. The catalog
        specs' rule (`catalog.spec_base`: a field that takes numbers, a boolean at any depth of its value), the
        web's line; a boolean for a name is pydantic's word for its type."""
        if isinstance(data, dict):
            for name, value in data.items():
                if holds_bool(value) and numeric_field(cls, name):
                    raise ValueError(f"{name}: true/false is not a number")
        return data

    @classmethod
    def cli_names(cls) -> dict[str, str]:
        """Field -> what the CLI calls it: its flag, or "argument N" for a positional (the /docs page shows it)."""
        return {name: f"argument {cls.positional.index(name) + 1}" if name in cls.positional
                else cls.flags.get(name, "--" + name.replace("_", "-")) for name in cls.model_fields}

    def cli(self) -> str:
        """`infraplan COMMAND ...` with every field that differs from its default, and `--json`."""
        words = ["infraplan", self.command]
        data = self.model_dump()
        fields = type(self).model_fields
        for name in fields:  # an upload: the file of its name beside the command (`UploadedFile`)
            if isinstance(upload := getattr(self, name), UploadedFile):
                data[name] = upload.filename
        for name in self.positional:
            words.append(str(data.pop(name)))
        for name, value in data.items():
            if value is None or value == fields[name].default:
                continue
            flag = self.flags.get(name, "--" + name.replace("_", "-"))
            if isinstance(value, bool):
                words.append(flag if value else flag.replace("--", "--no-", 1))
            elif isinstance(value, list | tuple):
                words += [flag, ",".join(str(v) for v in value)]
            elif (name in SLO_FIELDS and value > BARE_SLO_CEILING_S[SLO_FIELDS[name]]  # given with its unit, as
                  or name == "repair_s" and value < BARE_REPAIR_FLOOR_S):  # the CLI refuses these bare (slips)
                words += [flag, f"{value}s"]
            elif name in PRICE_FIELDS:  # USD/MWh, written with its unit
                words += [flag, f"{value}/MWh"]
            else:
                words += [flag, str(value)]
        return " ".join(shlex.quote(w) for w in [*words, "--json"])


class ModelOnSystemRequest(WebRequest):
    """A command on one model preset and one system preset, the model being the CLI's argument."""

    model: CatalogRef = Field(description="model preset or an uploaded HF config.json")
    system: CatalogRef = Field(description="system preset or an uploaded system YAML")

    positional = ("model",)


JSON_TYPES = {"int_type": "a JSON integer", "float_type": "a JSON number", "bool_type": "true or false"}


def strict_type_words(err: Any) -> str | None:
    """A value of another JSON type than its field's (`request_fields.STRICT_BODY`), said as such: "must be a JSON
    integer, not the text '8'" (pydantic's "Input should be a valid integer" named neither); None for other errors."""
    kind, given = err.get("type"), err.get("input")
    if kind not in JSON_TYPES:
        return None
    if isinstance(given, str):
        return f"must be {JSON_TYPES[kind]}, not the text {given[:40]!r}"
    if kind == "float_type" and isinstance(given, int) and not isinstance(given, bool):  # a JSON integer past a
        return "must be a finite number"  # double's range, as 1e400 is said (hS65: not "a JSON number, not 1000...")
    if kind == "int_type" and isinstance(given, float) and math.isfinite(given):
        if not given.is_integer():
            return f"must be a whole number, not {given:g}"
        if abs(given) >= 2**63:  # a count the browser posts as 1e+308 (hD58's words)
            return f"must be a whole number; {given!r} is too large"
        return f"must be a JSON integer: {int(given)}, not {given!r}"
    return f"must be {JSON_TYPES[kind]}, not {json.dumps(given, default=str)[:40]}"
