"""cluster.yaml and jobs/runtime_env.yaml checked with Ray's own launcher and packaging code (no cloud call)."""

from __future__ import annotations

import copy
import zipfile
from pathlib import Path

import pytest
import ray
import yaml

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cluster_config() -> dict:
    return yaml.safe_load((REPO / "cluster.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def runtime_env() -> dict:
    return yaml.safe_load((REPO / "jobs" / "runtime_env.yaml").read_text(encoding="utf-8"))


def test_cluster_yaml_passes_ray_up_validation(cluster_config):
    """The steps of `ray up` that need no cloud: merge AWS defaults, then schema + bounds checks."""
    from ray.autoscaler._private.util import prepare_config, validate_config

    prepared = prepare_config(copy.deepcopy(cluster_config))
    validate_config(prepared)
    assert prepared["provider"]["type"] == "aws"
    assert prepared["idle_timeout_minutes"] > 0


def test_cluster_has_cpu_head_gpu_and_cpu_workers(cluster_config):
    types = cluster_config["available_node_types"]
    head = types[cluster_config["head_node_type"]]
    assert head["resources"].get("GPU", 0) == 0
    workers = {name: t for name, t in types.items() if name != cluster_config["head_node_type"]}
    gpu = [t for t in workers.values() if t["resources"].get("GPU", 0) >= 1]
    cpu = [t for t in workers.values() if not t["resources"].get("GPU") and t["resources"]["CPU"] >= 4]
    assert gpu and gpu[0]["node_config"]["InstanceType"].split(".")[0] in {"g5", "g6", "g6e"}
    assert cpu
    for t in workers.values():
        assert 0 <= t["min_workers"] <= t["max_workers"] <= cluster_config["max_workers"]


def test_image_is_cuda_and_matches_local_ray(cluster_config):
    """`ray up` and `ray job submit` need the cluster's Ray to equal the client's."""
    image = cluster_config["docker"]["image"]
    assert image.startswith("rayproject/ray")
    tag = image.split(":", 1)[1]
    assert tag.startswith(ray.__version__ + "-") and ("gpu" in tag or "cu" in tag)


def test_setup_installs_raypipe_with_gpu_extras(cluster_config):
    commands = " && ".join(cluster_config["setup_commands"])
    assert "pip install" in commands and "raypipe[" in commands
    extras = commands.split("raypipe[", 1)[1].split("]", 1)[0].split(",")
    assert {"gpu", "cloud"} <= set(extras)
    assert "onnxruntime-gpu" in commands


def test_runtime_env_is_valid(runtime_env):
    from ray.runtime_env import RuntimeEnv

    env = RuntimeEnv(**runtime_env)
    assert env["working_dir"] == "."
    assert ".git" in env["excludes"] and "/.[!.]*" in env["excludes"]


def test_working_dir_upload_is_small_and_holds_the_jobs(runtime_env, tmp_path):
    """Zip the repository exactly as `ray job submit --working-dir .` would, with the excludes."""
    from ray._private.runtime_env.packaging import _zip_files

    package = tmp_path / "working_dir.zip"
    _zip_files(str(REPO), runtime_env["excludes"], str(package), include_gitignore=True)
    names = zipfile.ZipFile(package).namelist()
    assert "jobs/run.py" in names and "raypipe/pipeline/extract.py" in names
    assert not any(n.startswith((".", "runs/")) or n.endswith((".onnx", ".whl", "mlflow.db")) for n in names)
    assert package.stat().st_size < 20 * 2**20
