"""The web's field descriptions are the CLI's help, kept in sync (hW47).

Session 44 (hW46) copied each CLI option's help into web/request_descriptions.py by hand (web/ may not import cli/),
and nothing noticed a help text edited later. Now the copies are the CLI's words verbatim, compared here with every
CLI option's `help=` as click holds it (tests may import both layers); what the web shows differs by one stated rule
(`web_words`: no file words, this command's `--flag` as its field).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import BaseModel

from infraplan.cli.main import load_command
from infraplan.units import QUANTITY_TEXT
from infraplan.web import request_descriptions as rd
from infraplan.web import request_fields as rf
from infraplan.web.infrastructure_requests import ScenarioInput
from infraplan.web.request_fields import WebRequest, takes_upload
from infraplan.web.requests import REQUESTS

OWN_FIELDS = {("search", "gpus"), ("serve-plan", "disaggregation"), ("plan", "scenario"), ("compare", "scenarios"),
              ("reliability", "plan")}  # (hS75: the CLI's train flags in one text, the web's a train body's fields)
"""The only fields the web describes in its own words (each with its reason in `WEB_OWN`): a new one is reviewed."""


def cli_param(command: str, model: type[WebRequest], field: str) -> Any:
    """The click parameter a web field stands for: its flag (`cli_names`), or the Nth argument."""
    params = load_command(command).params
    name = model.cli_names()[field]
    if name.startswith("argument "):
        return [p for p in params if p.param_type_name == "argument"][int(name.split()[1]) - 1]
    found = [p for p in params if name in (*p.opts, *getattr(p, "secondary_opts", ()))]
    assert found, f"{command}: the web's {field} stands for {name}, which `infraplan {command}` lacks"
    return found[0]


def drifts(command: str) -> list[str]:
    """Each web field whose copied words differ from its CLI option's help now, with the text to paste."""
    model = REQUESTS[command]
    table = command.upper().replace("-", "_")
    out = []
    for field, words in rd.CLI_HELP[command].items():
        param = cli_param(command, model, field)
        if words != param.help:
            out.append(f"{command} {model.cli_names()[field]}: request_descriptions.{table}[{field!r}] is {words!r}; "
                       f"the CLI's help is {param.help!r}")
    return out


@pytest.mark.parametrize("command", list(REQUESTS))
def test_the_copied_words_are_the_cli_help_verbatim(command: str) -> None:
    assert not drifts(command), "\n".join(drifts(command))


def test_a_help_text_edited_later_is_a_drift(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check fails on a changed help text (train --tp's, as click holds it), naming the option and the new words."""
    model = REQUESTS["train"]
    param = cli_param("train", model, "tp")
    assert drifts("train") == []
    monkeypatch.setattr(param, "help", "tensor parallel degree (with sequence parallelism on by default)")
    found = drifts("train")
    assert len(found) == 1 and found[0].startswith("train --tp: request_descriptions.TRAIN['tp']")
    assert "on by default" in found[0]


@pytest.mark.parametrize("command", list(REQUESTS))
def test_every_field_is_the_cli_words_or_a_listed_exception(command: str) -> None:
    model = REQUESTS[command]
    copied, own = set(rd.CLI_HELP[command]), set(rd.WEB_OWN.get(command, {}))
    assert copied | own == set(model.model_fields) and not copied & own
    assert {(command, f) for f in own} <= OWN_FIELDS
    for field in copied:  # a field taking an upload (hX52: model, system, stack) says so (`rf.UPLOAD_WORDS`)
        assert model.model_fields[field].description == rf.web_words(rd.CLI_HELP[command][field], {
            flag: name for name, flag in model.cli_names().items()}, takes_upload(model.model_fields[field].annotation))


def test_the_listed_exceptions_are_all_in_use() -> None:
    assert {(c, f) for c, own in rd.WEB_OWN.items() for f in own} == OWN_FIELDS
    assert set(rf.COMMANDS) == set(REQUESTS) == set(rd.CLI_HELP)


def test_the_web_offers_no_file() -> None:
    """The web reads no server file and has no --trace: a CLI help with a new file phrase must add it to FILE_WORDS;
    a field taking an upload (`CatalogRef`, hX52; every file the CLI reads for a catalog reference, hX53) offers an
    uploaded file only, in `rf.UPLOAD_WORDS`' words."""
    for command, model in REQUESTS.items():
        for field, info in model.model_fields.items():
            text = info.description or ""
            if takes_upload(info.annotation):
                text = re.sub(r"an uploaded (HF config\.json|(system|stack|accelerator|workload|device) YAML|YAML file|"
                              r"YAML of sites)", "an upload", text)
            for words in ("YAML", "yaml", "path to", "config.json", "--trace", "a trace", " or file"):
                assert words not in text, f"{command}.{field}: {text!r} offers a file ({words!r})"


@pytest.mark.parametrize(("cli", "web"), [
    ("model preset or path to an HF config.json", "model preset or an uploaded HF config.json"),
    ("model preset or HF config.json (diffusion model for image-generation)",
     "model preset or an uploaded HF config.json (diffusion model for image-generation)"),
    ("system preset or path to a system YAML", "system preset or an uploaded system YAML"),
    ("system preset, system YAML, or an accelerator preset (or give it as --system)",
     "system preset, an uploaded system YAML, or an accelerator preset"),
    ("a versioned engine name (vllm-0.12.0) or a stack YAML: KV-memory rule",
     "a versioned engine name (vllm-0.12.0) or an uploaded stack YAML: KV-memory rule"),
    # hX53: every catalog reference the CLI reads as a file
    ("chat | summarization | YAML", "chat | summarization | an uploaded workload YAML"),
    ("chat | path to a workload YAML", "chat | an uploaded workload YAML"),
    ("accelerator preset or YAML path (mtia-v1)", "accelerator preset or an uploaded accelerator YAML (mtia-v1)"),
    ("DLRM preset (dlrm-low) or file", "DLRM preset (dlrm-low) or an uploaded YAML file"),
    ("msvp, or a CPU preset, or a device YAML", "msvp, or a CPU preset, or an uploaded device YAML"),
    ("location preset or YAML [default: us-average]", "location preset or an uploaded YAML file [default: us-average]"),
    ("location preset or YAML file [default]", "location preset or an uploaded YAML file [default]"),
    ("fleet preset or YAML of sites (replaces", "fleet preset or an uploaded YAML of sites (replaces"),
    ("epoch-h100 or a YAML file [default", "epoch-h100 or an uploaded YAML file [default"),
])
def test_web_words_of_an_upload_field(cli: str, web: str) -> None:
    """hX52: a field taking an upload keeps its file words as an upload's; the others still drop them."""
    assert rf.web_words(cli, FLAGS, uploads=True) == web
    assert "YAML" not in rf.web_words(cli, FLAGS) and "config.json" not in rf.web_words(cli, FLAGS)


FLAGS = {"--tp": "tp", "--recompute": "recompute", "--bytes": "size", "--prefill-attention-dp": "prefill_attention_dp"}


@pytest.mark.parametrize(("cli", "web"), [
    ("with --recompute full and --tp 2", "with recompute full and tp 2"),
    ("buffer size (the CLI's --bytes)", "buffer size (the CLI's size)"),  # a renamed flag: its field
    ("EP [attention DP x TP with --prefill-attention-dp > 1]", "EP [attention DP x TP with prefill_attention_dp > 1]"),
    ("any --prefill-* layout flag, --tp/--pp", "any prefill_* layout flag, tp/--pp"),  # --pp: not this model's
    ("as train --sharp; as `facility --tp`", "as train --sharp; as `facility --tp`"),  # another command's flag
    ("compare under --no-mfu-guard", "compare under --no-mfu-guard"),
    ("system preset or path to a system YAML", "system preset"),
    ("system preset, system YAML, or an accelerator preset", "system preset or an accelerator preset"),
    ("location preset or YAML [default: us-average]", "location preset [default: us-average]"),
    ("random seed [0]; not with --trace", "random seed [0]"),
])
def test_web_words(cli: str, web: str) -> None:
    assert rf.web_words(cli, FLAGS) == web


# --- units -----------------------------------------------------------------------------------------------------
UNIT = re.compile(r"(?<=[0-9])(s|ms|min|h|d|w|kW|GW|TB|GiB|MB)\b|\b(count|degree|stages?|tokens?|sequences|samples|"
                  r"requests?|requests/s|seconds|hours|days|accelerators?|GPUs?|ranks|layers|clients|plans|rungs|flows|"
                  r"servers|trays|bytes|MWh|US dollars|percentile|rate|shares?|fraction|factor|dimensionless|"
                  r"seed)\b|\$")
"""What a description may state a quantity's unit with: an SI unit or prefix, a currency, or the thing counted."""


def _numeric(schema: dict[str, Any]) -> bool:
    """Whether a field's JSON schema holds a number: an integer or number (or a list, a choice or an option of
    them), or a quantity's text with its unit (`Quantity`'s pattern: the readers' `units.QUANTITY_TEXT`, hI63)."""
    pattern = str(schema.get("pattern", ""))
    if schema.get("type") in ("integer", "number") or pattern.startswith("^[0-9]") or QUANTITY_TEXT in pattern:
        return True
    if any(isinstance(v, int | float) and not isinstance(v, bool) for v in schema.get("enum", ())):
        return True
    return any(_numeric(s) for s in (*schema.get("anyOf", ()), *([schema["items"]] if "items" in schema else [])))


def numeric_fields(model: type[BaseModel]) -> set[str]:
    return {name for name, prop in model.model_json_schema()["properties"].items() if _numeric(prop)}


MODELS: list[type[BaseModel]] = [*REQUESTS.values(), ScenarioInput]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_number_states_its_unit(model: type[BaseModel]) -> None:
    bare = [f"{name}: {info.description!r}" for name, info in model.model_fields.items()
            if name in numeric_fields(model) and not UNIT.search(info.description or "")]
    assert not bare, f"{model.__name__}: numbers without a unit: {bare}"


def test_the_unit_check_can_fail() -> None:
    """The vocabulary does not pass anything: words with no unit are caught, and the numbers are found."""
    assert not UNIT.search("override the PUE") and not UNIT.search("search limit [the system's size]")
    assert UNIT.search("override $/MWh") and UNIT.search("search limit, accelerators [the system's size]")
    assert UNIT.search("e.g. 20ms") and not UNIT.search("e.g. 20 or 0.02")
    numeric = numeric_fields(REQUESTS["serve"])
    assert {"gpus", "rate", "ttft_slo", "usd_per_hour", "seed", "requests"} <= numeric
    assert not {"model", "dtype", "offline", "tp", "workload"} & numeric  # names, choices, flags; tp is "auto" or N
    assert {"size", "failed_links"} & numeric_fields(REQUESTS["collective"]) == {"size"}  # a quantity's text
    assert "percentile" in numeric_fields(REQUESTS["serve-plan"])  # a choice of numbers


def test_a_new_field_without_words_is_refused_at_import() -> None:
    """A request field added without the CLI's words (or the web's own) is a TypeError naming it, not a bare field."""

    class Extra(WebRequest):
        command = "network"
        system: str
        gpus: int = 1
        fabric: str = ""
        spine_radix: int = 64

    with pytest.raises(TypeError, match=r"fields without words \['spine_radix'\]"):
        rd.described(Extra)
