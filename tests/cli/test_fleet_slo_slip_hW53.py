"""fleet-mix and plan on a recsys `latency_slo: 20` (hU61's slip): one line, exit 2, nothing on stdout, as
`recsys --latency-slo 20` does."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import CliRun

SPEC = ("services:\n  - {name: late-ranking, kind: recsys, model: dlrm-high, qps: 40M, latency_slo: 20}\n"
        "pools:\n  - {name: mtia-v2, device: mtia-v2, available: 30000, price_usd_per_device: 9000}\n"
        "  - {name: h100, device: h100-sxm, available: 2000, price_usd_per_device: 42000}\n")


def test_fleet_mix_refuses_a_bare_ms_slo_in_one_line_as_recsys_does(cli: CliRun, tmp_path: Path) -> None:
    spec = tmp_path / "slip.yaml"
    spec.write_text(SPEC)
    code, out, err = cli(["fleet-mix", str(spec), "--json"])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "services.0.latency_slo: 20 is 20 s per batch: did you mean 20ms?" in err
    _, _, recsys_err = cli(["recsys", "dlrm-high", "--accelerator", "mtia-v2", "--latency-slo", "20"])
    assert "20 is 20 s per batch: did you mean 20ms?" in recsys_err  # the same sentence
    spec.write_text(SPEC.replace("latency_slo: 20}", "latency_slo: 20ms}"))
    code, out, err = cli(["fleet-mix", str(spec), "--json"])
    assert code == 0, err
