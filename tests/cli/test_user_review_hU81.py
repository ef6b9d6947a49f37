"""A demanding user's walk through the README (hU81, session 50): what the answers left unsaid or the README had stale.

- README's DeepSeek-V3 run (2,048 H800, `--tokens 14.8e12`) quoted the GPU-hours its throughput band implies as
  2.54-3.73 M, where `train` prints 2.54-3.56 M (the band moved since e11ef77 wrote it); the figures are read from
  the README and recomputed from `train --json` (GPU-hours x (1 + the band's ends), the rule train.py prints).
- `reliability` printed "checkpoint 5.17 TiB" without the model it sized (the default `--model llama3-405b`): a
  100,000-GPU question with no model named read a 405B checkpoint unannounced.
- `serve` printed "SLO attainment 96.0 %" without the SLO it counted (the workload's 2 s / 200 ms when no flag is
  given): the row now names each SLO and where it came from.
"""

from __future__ import annotations

import json
import re
import shlex

import pytest
import readme_examples
from tests.cli.conftest import CliRun, cli_json
from tests.user_docs import doc_path

from infraplan.catalog.serving_loader import load_workload
from infraplan.cli.commands import _output


def _readme_deepseek_run() -> tuple[str, str]:
    """(the comment above README's DeepSeek-V3 H800 run, its command after `infraplan`)."""
    usage = doc_path("usage")  # the Usage block, docs/usage.md (hM64)
    lines = usage.read_text().splitlines()
    for start, command, _ in readme_examples.command_lines(usage):
        if command.startswith("train deepseek-v3 --system h800"):
            comment = []
            index = start - 2  # the line above the command (start is 1-based)
            while lines[index].lstrip().startswith("#"):
                comment.insert(0, lines[index].lstrip("# ").rstrip())
                index -= 1
            return " ".join(comment), command
    raise AssertionError("README has no `train deepseek-v3 --system h800` line")


def test_readmes_deepseek_run_quotes_the_gpu_hours_and_band_train_prints(capsys: pytest.CaptureFixture[str]) -> None:
    comment, command = _readme_deepseek_run()
    hours = re.search(r"\((\d+\.\d+) M GPU-hours with failures", comment)
    band = re.search(r"throughput band implies \((\d+\.\d+)-(\d+\.\d+) M\)", comment)
    assert hours and band, comment
    run = cli_json(capsys, shlex.split(command))
    gpu_hours, err = run["gpu_hours"], run["error_band"]
    low, high = (gpu_hours * (1.0 + e) / 1e6 for e in (err["low"], err["high"]))  # train.py's printed rule
    assert hours.group(1) == f"{gpu_hours / 1e6:.2f}"
    assert (band.group(1), band.group(2)) == (f"{low:.2f}", f"{high:.2f}")


RELIABILITY = ["reliability", "--system", "h100-sxm", "--gpus", "100000", "--checkpoint-interval", "30min"]


def _row(out: str, label: str) -> str:
    """The value cell of a table row, its wrapped lines joined (rows whose label cell is blank continue it)."""
    cells = [[cell.strip() for cell in line.split("│")[1:-1]] for line in out.splitlines() if line.startswith("│")]
    start = next(i for i, c in enumerate(cells) if len(c) == 2 and c[0] == label)
    value = [cells[start][1]]
    for c in cells[start + 1:]:
        if len(c) != 2 or c[0]:
            break
        value.append(c[1])
    return " ".join(value)


def test_reliabilitys_checkpoint_row_names_the_model_it_sized(cli: CliRun) -> None:
    code, out, err = cli(RELIABILITY)
    assert code == 0, err
    assert "llama3-405b" in _row(out, "checkpoint")  # the default --model, said where the size is
    code, out, err = cli([*RELIABILITY, "--model", "llama3-70b"])
    assert code == 0, err
    assert "llama3-70b" in _row(out, "checkpoint") and "405b" not in _row(out, "checkpoint")
    code, out, err = cli([*RELIABILITY, "--checkpoint-size", "1TB"])
    assert code == 0, err
    row = _row(out, "checkpoint")
    assert "--checkpoint-size" in row and "llama3-405b" not in row  # the size given, not the model's


SERVE = ["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--dtype", "fp8", "--rate", "2",
         "--workload", "chat", "--requests", "60"]


def test_serves_slo_attainment_names_the_slos_it_counts_and_their_source(cli: CliRun) -> None:
    chat = load_workload("chat")
    assert chat.ttft_slo_s and chat.tpot_slo_s  # the workload's own SLOs (2 s, 200 ms when written)
    code, out, err = cli(SERVE)
    assert code == 0, err
    row = _row(out, "SLO attainment")
    assert f"TTFT ≤ {chat.ttft_slo_s:g} s" in row and f"TPOT ≤ {chat.tpot_slo_s * 1e3:g} ms" in row
    assert "chat workload's" in row
    code, out, err = cli([*SERVE, "--ttft-slo", "3s", "--tpot-slo", "50ms"])
    assert code == 0, err
    row = _row(out, "SLO attainment")
    assert "TTFT ≤ 3 s" in row and "TPOT ≤ 50 ms" in row


def test_readmes_fleet_mix_example_quotes_the_servers_fleet_mix_buys(capsys: pytest.CaptureFixture[str]) -> None:
    """README's fleet-mix bullet said "1,520 MTIA v2 used in 190 servers" where `fleet-mix examples/fleet-mix.yaml`
    buys 1,537 in 193 (stale since e11ef77); every figure of the sentence is read back from the answer."""
    text = " ".join(doc_path("custom-silicon").read_text().split())  # docs/custom-silicon.md (hM64)
    said = re.search(r"([\d,]+) H100 in (\d+) servers at ([\d,]+) W and \$([\d.]+)/h, ([\d,]+) MTIA v2 used in "
                     r"(\d+) servers at (\d+) W", text)
    assert said, "README's fleet-mix example sentence"
    answer = cli_json(capsys, ["fleet-mix", str(readme_examples.ROOT / "examples" / "fleet-mix.yaml")])
    pools = {p["pool"]: p for p in answer["pools"]}
    h100, mtia = pools["h100"], pools["mtia-v2"]
    assert said.groups() == (f"{h100['used']:,}", str(h100["servers"]), f"{h100['power_w_per_device']:,.0f}",
                             f"{h100['usd_per_device_hour']:.3f}", f"{mtia['used']:,}", str(mtia["servers"]),
                             f"{mtia['power_w_per_device']:.0f}")


def test_an_image_serves_attainment_names_its_latency_slo(cli: CliRun) -> None:
    images = load_workload("image-generation")
    assert images.e2e_slo_s  # the workload's own p99 latency SLO
    args = ["serve", "sd-v1.5-512", "--system", "dgx-h100-superpod", "--gpus", "8", "--workload", "image-generation",
            "--rate", "20", "--requests", "300"]
    code, out, err = cli(args)
    assert code == 0, err
    row = _row(out, "SLO attainment")
    assert f"of images within latency ≤ {images.e2e_slo_s:g} s; the SLO: the image-generation workload's" in row
    code, out, err = cli([*args, "--ttft-slo", "8s"])
    assert code == 0, err
    row = _row(out, "SLO attainment")
    assert "latency ≤ 8 s" in row and "workload's" not in row


def test_a_runs_cost_names_the_owned_gpu_hour_it_is_priced_at(cli: CliRun) -> None:
    """`train --tokens` printed "cost $3.41 M" for DeepSeek-V3's 2.78 M H800 GPU-hours with no rate: read beside
    DeepSeek's $5.576 M (its $2 per rented GPU-hour), the basis matters; the row names the owned hour it used."""
    args = ["train", "llama3-8b", "--system", "h100-sxm", "--gpus", "8", "--tp", "1", "--pp", "1", "--seq-len", "8192",
            "--global-batch", "64", "--tokens", "1T"]
    code, out, err = cli([*args, "--json"])
    assert code == 0, err
    run = json.loads(out)
    assert run["cost_usd"] == pytest.approx(run["gpu_hours"] * run["usd_per_gpu_hour"], rel=1e-12)
    code, out, err = cli(args)
    assert code == 0, err
    assert f"(${run['usd_per_gpu_hour']:.2f} per owned GPU-h)" in _row(out, "cost")


def test_a_plan_that_does_not_fit_is_not_also_called_low_on_headroom(cli: CliRun) -> None:
    """`train` of a plan 15.9 GiB over an H100's memory printed "fits: NO" and then "! low memory headroom: -15.9 GiB
    of 80 GiB left ... below the margin": a negative headroom is the overflow the table names, not a margin to keep.
    A plan that fits within less than the margin still gets the line (as `search` marks it)."""
    plan = ["train", "llama3-8b", "--system", "h100-sxm", "--gpus", "8", "--tp", "1", "--pp", "1", "--global-batch",
            "8", "--micro-batch", "1", "--recompute", "none"]
    code, out, err = cli([*plan, "--seq-len", "8192", "--json"])
    assert code == 0, err
    over = json.loads(out)
    assert not over["fits"] and over["low_memory_headroom"]  # the JSON keeps both facts
    code, out, err = cli([*plan, "--seq-len", "8192"])
    assert code == 0, err
    assert "fits: NO" in _row(out, "memory per GPU") and "low memory headroom" not in out
    code, out, err = cli([*plan, "--seq-len", "2048", "--memory-margin", "0.9"])
    assert code == 0, err
    assert "fits: yes" in _row(out, "memory per GPU") and "! low memory headroom" in out


def test_searchs_title_writes_the_gpu_count_as_every_other_count(cli: CliRun) -> None:
    """`search ... --gpus 16384` titled its table "(16384 GPUs)" beside train's "16,384 × h100-sxm"."""
    code, out, err = cli(["search", "llama3-8b", "--system", "h100-sxm", "--gpus", "1024", "--seq-len", "4096",
                          "--global-batch", "1024"])
    assert code == 0, err
    assert "(1,024 GPUs)" in " ".join(out.split()[:12]) and "(1024 GPUs)" not in out


@pytest.mark.parametrize("args", [
    ["campus", "--fleet", "meta-2024"],  # one 9-column table: "300,8…", "1,28…" tCO2e
    ["serve-plan", "llama3-8b", "--system", "dgx-h100-superpod", "--rate", "5", "--workload", "chat",
     "--speculative-tokens", "2", "--acceptance", "0.7", "--requests", "300"],  # next-best: "accelerat…"
])
def test_tables_at_80_columns_cut_no_cell(args: list[str], cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> None:
    """`campus --fleet` and serve-plan's next-best table (with its draft-token column) printed cut cells at 80
    columns, Rich's width off a terminal; both go through `_fitted_table.print_fitted` now, as plan's do (hC48)."""
    monkeypatch.setattr(_output.console, "width", 80)
    code, out, err = cli(args)
    assert code == 0, err
    assert "…" not in out and max(len(line) for line in out.splitlines() if "┃" in line or "│" in line) <= 80
    if args[0] == "campus":
        fleet = json.loads(cli([*args, "--json"])[1])
        for site in fleet["sites"]:  # every count whole in its row
            row = rf"│ {re.escape(site['name'])} +│ {site['accelerator']} +│ +{site['accelerators']:,} │"
            assert re.search(row, out), site["name"]
