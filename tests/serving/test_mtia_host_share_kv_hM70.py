"""MTIA's LLM answers, session 70 (hM70).

The platform per-watt figure of an MTIA 400 run counts 350 W a chip of host (300 W) and scale-up switches (50 W)
that no source gives (Meta's MTIA roadmap summaries give the chip's 1,200 W only; Meta's Apr 2024 MTIA blog gives
MTIA 2i's rack layout, no power): every answer that uses it says so, in `serve`'s `assumed_host_w_per_gpu` and a
warning, and in a plan pool's figures note. The same check on GPU systems: a GB300 NVL72 tray's 1,800 W of host
is an ASSUMPTION too (450 W a GPU, said alike); DGX H100's comes from its datasheet maximum (none said).

An MX8 KV cache (`--kv-dtype mxfp8`, what an MTIA 400 user at mxfp8 weights would ask) is refused with its reason:
no modelled engine stores one (vLLM 0.12.0's CacheDType, SGLang 0.5.9's --kv-cache-dtype), one line, exit 2.
"""

from __future__ import annotations

import json

import pytest

from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.cluster.host_share import assumed_share_w
from infraplan.errors import InputError
from infraplan.planning.device_money import pool_figures_note
from infraplan.serving.serving_api import estimate_serving

SMALL = ["--gpus", "1", "--rate", "2", "--requests", "40", "--input-len", "256", "--output-len", "32", "--seed", "0"]


@pytest.mark.parametrize(("system", "assumed_w"), [("mtia-400-rack", 350.0), ("mtia-400", 350.0),
                                                   ("gb300-nvl72", 450.0), ("gb300", 450.0),
                                                   ("dgx-h100-superpod", 0.0), ("h100-sxm", 0.0)])
def test_the_assumed_part_of_a_node_host_share(system: str, assumed_w: float) -> None:
    """MTIA 400: its 300 W host and 50 W switch shares are both ASSUMPTIONS, as the rack file and the part's own
    figure (the node an accelerator preset is built on) label them; GB300 NVL72: the tray host, not its switch trays
    (secondary, S); DGX H100: none (10.2 kW datasheet maximum less its GPUs)."""
    got, lines = assumed_share_w(Cluster.resolve(system).system.node)
    assert got == pytest.approx(assumed_w)
    assert len(lines) == {350.0: 2, 450.0: 1, 0.0: 0}[assumed_w]


def test_serve_says_the_assumed_host_share_in_json_and_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    runs = {}
    for system in ("mtia-400", "h100-sxm"):
        assert main(["serve", "llama3-8b", "--system", system, *SMALL, "--json"]) == 0
        runs[system] = json.loads(capsys.readouterr().out)
    mtia, h100 = runs["mtia-400"], runs["h100-sxm"]
    assert mtia["assumed_host_w_per_gpu"] == pytest.approx(350.0) and h100["assumed_host_w_per_gpu"] == 0.0
    said = [w for w in mtia["warnings"] if w.startswith("joules_per_token: 350 of the 350 W")]
    assert len(said) == 1 and "ASSUMED" in said[0] and "device_joules_per_token" in said[0]
    assert not any(w.startswith("joules_per_token:") for w in h100["warnings"])
    # the warned watts are the ones in the platform figure: (joules - chip joules) x tokens/s = host W x GPUs
    host_w = (mtia["joules_per_token"] - mtia["device_joules_per_token"]) * mtia["steady_output_tokens_per_s"]
    assert host_w == pytest.approx(350.0, rel=1e-6)


def test_a_plan_pool_notes_its_assumed_host_share() -> None:
    assert "350 of the 350 W per accelerator of host and scale-up switches is ASSUMED" in (
        pool_figures_note("mtia-400", "mtia-400-rack") or "")
    assert "450 of the 500 W per GPU of host and scale-up switches is ASSUMED" in (pool_figures_note("gb300", "gb300")
                                                                                   or "")
    assert pool_figures_note("h100", "h100-sxm") is None


def test_an_mx8_kv_cache_is_refused_with_its_reason(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["serve", "llama3-70b", "--system", "mtia-400", "--dtype", "mxfp8", "--kv-dtype", "mxfp8", *SMALL])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "'mxfp8' is not one of 'bf16', 'fp8', 'int8'" in err and "no modelled engine stores an MXFP8 KV cache" in err
    assert "keeps a bf16 KV cache" in err
    # a word that is no format keeps click's own line
    assert main(["serve", "llama3-8b", "--system", "mtia-400", "--kv-dtype", "mx8", *SMALL]) == 2
    assert capsys.readouterr().err.strip().endswith("'mx8' is not one of 'bf16', 'fp8', 'int8'.")
    with pytest.raises(InputError, match="no modelled engine stores an MXFP8 KV cache"):  # the Python API alike
        estimate_serving("llama3-70b", "mtia-400", 1, dtype="mxfp8", kv_dtype="mxfp8", rate=2.0, workload="chat")
