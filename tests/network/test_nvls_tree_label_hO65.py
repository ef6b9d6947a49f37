"""`collective all-reduce`: one answer per algorithm name (hO65; hJ65's walk, product_review_tried.md "Left" 3).

Before, `--algorithm auto` on 1,024 H100 at 1 GiB answered 5.785 ms labelled "tree" while `--algorithm tree` answered
5.838 ms: auto's tree had NVLS as its leg inside each domain (NCCL's NVLSTree, an algorithm name in nvidia-nccl-cu13
2.30.7's libnccl.so.2), the named tree a chain. Auto's label now names NVLS_TREE there, and `--algorithm nvls_tree`
gives the same answer."""

import pytest

from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.results import CollectiveResult

GIB = 2.0**30


def _run(system: str, gpus: int, size: float, algorithm: str) -> CollectiveResult:
    return estimate_collective("all-reduce", Cluster.resolve(system).for_gpus(gpus), gpus, size, algorithm=algorithm)


def test_auto_on_h100_names_nvls_tree_and_the_named_run_agrees() -> None:
    auto = _run("dgx-h100-superpod", 1024, GIB, "auto")
    assert auto.algorithm == "nvls_tree"
    named = _run("dgx-h100-superpod", 1024, GIB, "nvls_tree")
    assert named.time_s == auto.time_s == pytest.approx(5.785e-3, rel=1e-3)
    tree = _run("dgx-h100-superpod", 1024, GIB, "tree")
    assert tree.algorithm == "tree" and tree.time_s > auto.time_s


@pytest.mark.parametrize(("system", "gpus"), [("dgx-h100-superpod", 1024), ("dgx-h100-superpod", 64),
                                              ("meta-rsc", 256), ("dgx-h100-superpod", 8)])
@pytest.mark.parametrize("size", [2.0**20, 64 * 2.0**20, GIB])
def test_auto_answer_is_the_answer_of_its_label(system: str, gpus: int, size: float) -> None:
    """The same question asked two ways gives one answer: auto, then the algorithm auto names, by name."""
    auto = _run(system, gpus, size, "auto")
    assert _run(system, gpus, size, auto.algorithm).time_s == auto.time_s


@pytest.mark.parametrize(("system", "gpus"), [("meta-rsc", 64), ("dgx-h100-superpod", 8)])
def test_nvls_tree_refused_where_it_cannot_run(system: str, gpus: int) -> None:
    with pytest.raises(InputError, match="nvls_tree"):
        _run(system, gpus, GIB, "nvls_tree")
