"""Product nits a demanding user hits (hU69; session 68's hU left them noted).

- `facility --count 1` of gb200 said "1 server(s) house 4 gb200": counts now read in the right number ("1 server
  houses", "2 servers house"), and no user-facing string of the package writes "(s)" after a noun.
- A file of the wrong kind (`network examples/plan-minimal.yaml`) listed the system schema's missing fields; now one
  line naming what the file is and the command that reads it, for every command that reads a system, part, stack,
  workload, fleet, sweep or planner file (`catalog.loader_kinds.another_kinds_file`), the web's uploads alike.
- A spec's SLO, deadline or repair time written with its unit (`ttft_slo: 60s`) dumped as 60.0, which a new
  validation (no `si_dump`) refused as 60 ms written for seconds: a time now dumps with its unit, as a site's power.
- `serve-plan --max-batch 64,,256` skipped the empty entry where `--dtypes fp8,,bf16` refused it as "unknown dtype
  ''": every list option refuses an empty entry in one line (`units.listed`).
- `collective` on a user's file smaller than its rail unit: the same figures as the catalog system at that count.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from infraplan.catalog import load_system
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.sweep.query import parse_objectives

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"
PLAN = "examples/plan-minimal.yaml"
FLEET_MIX = "examples/fleet-mix.yaml"
SWEEP = "examples/sweeps/campus-power.yaml"
SYSTEM_FILE = "examples/hardware/gb200-nvl144-superpod.yaml"
MODEL_FILE = "src/infraplan/catalog/models/llama3-8b.json"


@pytest.fixture
def cli_json_run(capsys: pytest.CaptureFixture[str]) -> Any:
    """`infraplan ARGS --json` in process: its JSON (exit 0 asserted)."""

    def run(args: list[str]) -> dict[str, Any]:
        capsys.readouterr()
        code = main([*args, "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        data: dict[str, Any] = json.loads(out)
        return data

    return run


@pytest.fixture(scope="module")
def client() -> Any:
    from infraplan.web.app import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def _one_line(cli: Any, args: list[str]) -> str:
    code, out, err = cli(args)
    assert code == 2 and not out.strip() and err.count("\n") == 1 and "Traceback" not in err, (code, out, err)
    return err.removeprefix("infraplan: error: ").strip()


@pytest.mark.parametrize(("count", "said"), [(1, "1 server houses 4 gb200"), (4, None),
                                             (5, "2 servers house 8 gb200")])
def test_a_count_housed_in_whole_servers_reads_in_the_right_number(cli_json_run: Any, count: int,
                                                                   said: str | None) -> None:
    note = cli_json_run(["facility", "--accelerator", "gb200", "--count", str(count)])["count_note"]
    assert note == (None if said is None else f"--count {count} is not a whole number of 4-accelerator servers: "
                    f"{said}, which every figure counts (power, racks, capex, energy)")


def _formatted_texts(tree: ast.AST) -> list[tuple[int, str]]:
    """The literal text of every f-string of a module: where a count is formatted in, its noun can agree."""
    return [(part.lineno, part.value) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
            for part in node.values if isinstance(part, ast.Constant) and isinstance(part.value, str)]


def test_no_formatted_string_of_the_package_writes_a_plural_in_brackets() -> None:
    """"server(s)", "tier(s)", "flow(s)" were written beside their count: `units.counted` says it (a schema's
    description of a count it does not know, "the shared expert(s)", is no f-string)."""
    bracketed = re.compile(r"[A-Za-z]\((s|es)\)")
    found = [f"{path.relative_to(ROOT)}:{line}: {text!r}" for path in sorted((ROOT / "src" / "infraplan").rglob("*.py"))
             for line, text in _formatted_texts(ast.parse(path.read_text(encoding="utf-8"))) if bracketed.search(text)]
    assert not found, found


@pytest.mark.parametrize(("args", "what", "reader"), [
    (["network", PLAN], "a plan scenario (phases, services, pools at sites), not a system file", "`infraplan plan"),
    (["facility", "--system", PLAN], "a plan scenario", "`infraplan plan FILE` plans it"),
    (["facility", "--accelerator", PLAN, "--count", "8"], "not an accelerator file", "`infraplan plan"),
    (["collective", "all-reduce", "--system", PLAN, "--gpus", "8", "--bytes", "1GiB"], "not a system file",
     "`infraplan plan"),
    (["reliability", "--system", PLAN, "--gpus", "8"], "not a system file", "`infraplan plan"),
    (["campus", "--accelerator", FLEET_MIX, "--power", "10MW"], "a fleet-mix spec (services, pools)",
     "`infraplan fleet-mix FILE` sizes it"),
    (["campus", "--fleet", PLAN], "not a campus fleet file", "`infraplan plan"),
    (["campus", "--fleet", SYSTEM_FILE], "a system file (node, network), not a campus fleet file", "`--system`"),
    (["train", "llama3-8b", "--system", SWEEP, "--gpus", "8", "--seq-len", "8192", "--global-batch", "64"],
     "a sweep spec (function, axes), not a system file", "`infraplan sweep FILE --out DIR` runs it"),
    (["train", PLAN, "--system", "h100-sxm", "--gpus", "8", "--seq-len", "8192", "--global-batch", "64"],
     "not a Hugging Face config.json", "`infraplan plan"),
    (["train", "examples/hardware/h100-hbm-plus50.yaml", "--system", "h100-sxm", "--gpus", "8", "--seq-len", "8192",
      "--global-batch", "64"], "extends 'h100-sxm': it is a what-if of a catalog file", "config.json: give the model"),
    (["serve", "llama3-8b", "--system", "h100-sxm", "--gpus", "8", "--rate", "1", "--workload", FLEET_MIX],
     "not a workload file", "`infraplan fleet-mix"),
    (["network", MODEL_FILE], "a model's config.json, not a system file", "`train`, `serve` and `serve-plan`"),
    (["sweep", PLAN, "--out", "/nonexistent-hU69"], "not a sweep spec file", "`infraplan plan"),
    (["plan", SYSTEM_FILE], "a system file (node, network), not a plan scenario file", "`--system` takes it"),
    (["fleet-mix", SWEEP], "a sweep spec (function, axes), not a fleet-mix spec file", "`infraplan sweep"),
    (["facility", "--accelerator", "h100-sxm", "--count", "8", "--costs", SYSTEM_FILE],
     "a system file (node, network), not a cost file", "`--system` takes it"),
    (["facility", "--accelerator", "h100-sxm", "--count", "8", "--location", PLAN], "not a location file",
     "`infraplan plan"),
])
def test_a_file_of_another_kind_is_named_with_the_command_that_reads_it(cli: Any, args: list[str], what: str,
                                                                       reader: str) -> None:
    line = _one_line(cli, args)
    assert what in line and reader in line, line
    assert "Field required" not in line and "Extra inputs" not in line


def test_a_file_of_the_kind_asked_keeps_the_schemas_line(cli: Any, tmp_path: Path) -> None:
    """A system file with a wrong key is a system file: its own problem is said, not another kind."""
    broken = tmp_path / "sys.yaml"
    text = (ROOT / SYSTEM_FILE).read_text(encoding="utf-8")
    broken.write_text(text + "\nnode_count: 3\n", encoding="utf-8")
    line = _one_line(cli, ["network", str(broken)])
    # a long tmp path is shortened in the line ("...sys.yaml (81 characters)"): the file's name and its key are said
    assert line.startswith("invalid system '") and "sys.yaml" in line and "node_count: Extra inputs" in line, line
    assert "not a system file" not in line and "plans it" not in line, line


def test_the_web_upload_says_what_the_cli_says(cli: Any, client: TestClient) -> None:
    body = {"system": {"text": (ROOT / PLAN).read_text(encoding="utf-8"), "filename": "plan-minimal.yaml"}}
    web = client.post("/api/network", json=body)
    line = _one_line(cli, ["network", PLAN])
    assert web.status_code == 400 and web.json()["detail"] == line.replace(PLAN, "plan-minimal.yaml")


LLM = {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 5, "ttft_slo": "60s",
       "tpot_slo": "2s"}


@pytest.mark.parametrize("kind", ["scenario", "fleet"])
def test_a_spec_with_times_in_their_units_dumps_them_so_and_validates_again(kind: str) -> None:
    """`ttft_slo: 60s` and `tpot_slo: 2s` are above the bare-number slip ceilings (30 s, 1 s): the dump wrote 60.0
    and 2.0, which a new validation refused as milliseconds written for seconds."""
    if kind == "scenario":
        data = yaml.safe_load((EXAMPLES / "plan-minimal.yaml").read_text(encoding="utf-8"))
        data["services"] += [LLM, {"name": "pretrain", "kind": "training", "model": "llama3-8b", "tokens": "1T",
                                   "deadline": "30d"}]
        data["policy"] = {**data.get("policy", {}), "repair_time": "30min", "spare_probability": 0.99}
        cls: type[ScenarioSpec] | type[FleetSpec] = ScenarioSpec
    else:
        data = yaml.safe_load((EXAMPLES / "fleet-mix.yaml").read_text(encoding="utf-8"))
        data["services"] = [*data["services"], {**LLM, "name": "chat-hU69"}]
        cls = FleetSpec
    spec = cls.model_validate(data)
    dumped = spec.model_dump()
    chat = next(s for s in dumped["services"] if s["name"] in ("chat", "chat-hU69"))
    assert (chat["ttft_slo"], chat["tpot_slo"]) == ("60.0s", "2.0s")
    if kind == "scenario":
        assert dumped["policy"]["repair_time"] == "1800.0s"
        assert next(s for s in dumped["services"] if s["name"] == "pretrain")["deadline"] == "2592000.0s"
    assert cls.model_validate(dumped) == spec
    assert cls.model_validate(yaml.safe_load(yaml.safe_dump(dumped))) == spec  # written as a file, too
    assert cls.model_validate_json(spec.model_dump_json()) == spec
    assert next(s for s in spec.services if s.name.startswith("chat")).ttft_slo == 60.0  # seconds inside, as before


@pytest.mark.parametrize(("args", "said"), [
    (["serve-plan", "llama3-8b", "--system", "h100-sxm", "--rate", "1", "--workload", "chat", "--max-batch",
      "64,,256"], "--max-batch '64,,256': entry 2 of 3 is empty"),
    (["serve-plan", "llama3-8b", "--system", "h100-sxm", "--rate", "1", "--workload", "chat", "--max-batch", "64,"],
     "--max-batch '64,': entry 2 of 2 is empty"),
    (["serve-plan", "llama3-8b", "--system", "h100-sxm", "--rate", "1", "--workload", "chat", "--dtypes",
      "fp8,,bf16"], "--dtypes 'fp8,,bf16': entry 2 of 3 is empty"),
    (["search", "llama3-8b", "--system", "h100-sxm", "--gpus", "8,,16", "--seq-len", "8192", "--global-batch",
      "64"], "--gpus '8,,16': entry 2 of 3 is empty"),
    (["campus", "--power", "1GW", "--accelerator", "gb200", "--phases", "2026:0.3,,2027:0.5"],
     "--phases '2026:0.3,,2027:0.5': entry 2 of 3 is empty"),
])
def test_every_list_option_refuses_an_empty_entry_alike(cli: Any, args: list[str], said: str) -> None:
    assert _one_line(cli, args).startswith(said + "; give comma-separated values, e.g. ")


def test_the_list_reader_strips_and_refuses() -> None:
    from infraplan.units import listed  # (hU69's: imported here, so the module's other tests run on a base without it)

    assert listed(" 64, 128 ,256", "--max-batch", "64,128") == ["64", "128", "256"]
    with pytest.raises(InputError, match=r"^--pareto 'a,,b': entry 2 of 3 is empty"):
        parse_objectives("a,,b", ["a", "b"])
    assert parse_objectives("a, b:max", ["a", "b"]) == [("a", False), ("b", True)]


@pytest.mark.parametrize(("nodes", "gpus", "op", "size", "sim"), [
    (17, 136, "all-reduce", "1GiB", "flow"), (17, 136, "all-to-all", "1GiB", "analytical"),
    (5, 40, "all-gather", "4KiB", "flow"), (24, 104, "all-to-all", "1GiB", "flow")])
def test_collective_on_a_small_user_rail_file_is_the_catalog_systems_answer(
        cli_json_run: Any, tmp_path: Path, nodes: int, gpus: int, op: str, size: str, sim: str) -> None:
    """hN68 built a user's file smaller than its rail unit on the catalog's partial-unit rule in `network`; a
    collective over it prices the same NIC-bound figures as the catalog SuperPOD at that count (checked over 160
    cases: 5 / 10 / 17 / 24 / 31 DGX, four ops, 4 KiB and 1 GiB, both models)."""
    h100 = load_system("dgx-h100-superpod")
    path = tmp_path / f"dgx{nodes}.yaml"
    own = h100.model_copy(update={"name": f"dgx{nodes}", "total_accelerators": nodes * 8})
    path.write_text(yaml.safe_dump(json.loads(own.model_dump_json())), encoding="utf-8")
    args = ["collective", op, "--gpus", str(gpus), "--bytes", size, "--sim", sim]
    mine = cli_json_run([*args, "--system", str(path)])
    catalog = cli_json_run([*args, "--system", "dgx-h100-superpod"])
    assert {k: v for k, v in mine.items() if k != "system"} == {k: v for k, v in catalog.items() if k != "system"}
