"""Issue 18 (single estimate, `train` process): the caches change no number, and `train` imports stay lean."""

from __future__ import annotations

import subprocess
import sys

from infraplan.catalog.error_bands import error_band
from infraplan.cluster import Cluster
from infraplan.training.estimate import estimate_training, evaluate_plans, resolve_plan, result_row

PLAN = dict(tp=8, pp=4, vpp=2, seq_len=4096, global_batch=512, micro_batch=1, recompute="none", zero=1,
            dtype="bf16", order="tp-cp-pp-dp")  # resolve_plan's order below


def test_named_cluster_is_resolved_once_and_shares_its_fabric():
    first = Cluster.resolve("meta-genai-roce-24k")
    assert Cluster.resolve("meta-genai-roce-24k") is first
    assert Cluster.resolve("meta-genai-roce-24k").fabric is first.fabric
    assert Cluster.resolve("h100-sxm") is Cluster.resolve("h100-sxm")  # an accelerator preset: generic node
    assert Cluster.resolve("h100-sxm").generic


def test_cached_cluster_gives_the_estimate_a_fresh_one_gives():
    fresh = Cluster._from_name("meta-genai-roce-24k")
    assert fresh is not Cluster.resolve("meta-genai-roce-24k")
    cached = estimate_training("llama3-70b", "meta-genai-roce-24k", 1024, **PLAN)  # type: ignore[arg-type]
    uncached = estimate_training("llama3-70b", fresh, 1024, **PLAN)  # type: ignore[arg-type]
    assert cached.model_dump_json() == uncached.model_dump_json()


def test_estimate_equals_the_row_the_search_reports():
    cluster = Cluster._from_name("meta-genai-roce-24k")
    estimate = estimate_training("llama3-70b", cluster, 1024, **PLAN)  # type: ignore[arg-type]
    from infraplan.catalog import load_model

    shape = load_model("llama3-70b")
    plan = resolve_plan(shape, cluster, 1024, 8, 4, None, 1, 1, 2, 4096, 512, 1, "none", 1, "bf16")
    row = result_row(evaluate_plans(shape, cluster, plan), plan, 0, cluster.accelerator.memory_bytes)
    # the search adds the band and the published-MFU flag itself (with its ranking consequence, `search.py`)
    fields = set(type(row).model_fields) - {"error_band", "beyond_published_mfu", "beyond_published_mfu_reason"}
    assert estimate.model_dump(include=fields) == row.model_dump(include=fields)
    assert estimate.error_band == error_band(cluster.accelerator.name, estimate.stack, "training")


def test_train_json_imports_no_facility_planning_or_heavy_optional_libraries():
    code = ("import sys; from infraplan.cli.main import main\n"
            "sys.argv = ['infraplan', 'train', 'llama3-8b', '--system', 'h100-sxm', '--gpus', '8', "
            "'--seq-len', '4096', '--global-batch', '64', '--json']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('MODULES', ' '.join(sorted(sys.modules)), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = done.stderr.rsplit("MODULES", 1)[1].split()
    assert '"step_time_s"' in done.stdout
    heavy = ("scipy", "pyarrow", "duckdb", "fastapi", "plotly", "pandas", "matplotlib")
    assert not [m for m in loaded if m.split(".")[0] in heavy]
    assert not [m for m in loaded if m.startswith(("infraplan.facility", "infraplan.planning"))]
