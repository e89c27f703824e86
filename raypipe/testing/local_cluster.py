"""A Ray cluster of separate node processes on loopback, for tests and benchmarks of the job path.

``ray start --head`` plus one ``ray start --address`` per worker node, each ``--block``ed in a
process group of its own: stopping the cluster signals exactly those groups, never other Ray
instances on the machine (``ray stop`` would kill them all). Every fixed port Ray would use is
replaced by a free one and the session files go to a private temp dir, so the cluster lives
beside any other local Ray.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from typing_extensions import Self

log = logging.getLogger(__name__)

OBJECT_STORE_BYTES = 200 * 2**20
STOP_GRACE_SECONDS = 10
#: Starts of a node that exits while starting (on a loaded machine, Ray's fixed 30 s start-up
#: deadlines are missed) before giving up.
START_ATTEMPTS = 3


class NodeExitedError(RuntimeError):
    """A node process ended while the cluster was starting."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _node_ports() -> list[str]:
    """Ports a node would otherwise take at fixed defaults (agent 52365) or that may collide."""
    return [f"--dashboard-agent-listen-port={free_port()}", f"--metrics-export-port={free_port()}"]


class LocalCluster:
    """``workers`` worker node processes with ``cpus_per_node`` CPUs each, plus a head with ``head_cpus``.

    >>> with LocalCluster(workers=2) as cluster:  # doctest: +SKIP
    ...     subprocess.run(["ray", "job", "submit", "--address", cluster.dashboard_url, "--", "python", "x.py"])
    """

    def __init__(self, workers: int = 1, cpus_per_node: int = 1, head_cpus: int = 0):
        self.workers = workers
        self.cpus_per_node = cpus_per_node
        self.head_cpus = head_cpus
        self.gcs_port = free_port()
        self.dashboard_port = free_port()
        self.temp_dir = Path(tempfile.mkdtemp(prefix="rp-", dir="/tmp"))  # short: socket paths
        self._processes: list[subprocess.Popen] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.gcs_port}"

    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    @staticmethod
    def environment() -> dict[str, str]:
        """Environment for the nodes and for clients (``ray job submit``) of this cluster.

        No inherited Ray address, usage stats off, and token authentication off: the cluster
        listens on 127.0.0.1 only.
        """
        env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
        env.update(RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled")
        # `ray` and the jobs' `python` are this interpreter's, even when its venv is not activated
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        return env

    def _start_node(self, args: list[str]) -> None:
        command = ["ray", "start", "--block", "--disable-usage-stats", f"--object-store-memory={OBJECT_STORE_BYTES}", *args, *_node_ports()]
        log.info("starting %s", " ".join(command))
        with open(self._node_log(len(self._processes)), "wb") as output:
            self._processes.append(
                subprocess.Popen(
                    command, env=self.environment(), start_new_session=True, stdout=output, stderr=subprocess.STDOUT
                )
            )

    def _node_log(self, index: int) -> Path:
        return self.temp_dir / f"node-{index}.log"

    def start(self, timeout: float = 120) -> LocalCluster:
        self._start_and_wait([
            "--head", "--node-ip-address=127.0.0.1", f"--port={self.gcs_port}", f"--num-cpus={self.head_cpus}",
            "--include-dashboard=true", "--dashboard-host=127.0.0.1", f"--dashboard-port={self.dashboard_port}",
            f"--ray-client-server-port={free_port()}", f"--temp-dir={self.temp_dir}",
        ], lambda: self.alive_nodes() >= 1, timeout, "the head node")  # fmt: skip
        for index in range(1, self.workers + 1):  # one at a time: raylets starting together time out on 2 cores
            # A session folder per node: nodes sharing one unpack each other's runtime_env
            # packages over the files a running driver imports.
            self._start_and_wait([
                "--node-ip-address=127.0.0.1", f"--address={self.address}", f"--num-cpus={self.cpus_per_node}",
                f"--temp-dir={self.temp_dir / f'node{index}'}",
            ], lambda nodes=1 + index: self.alive_nodes() == nodes, timeout, f"worker node {index}")  # fmt: skip
        return self

    def _start_and_wait(self, args: list[str], ready, timeout: float, what: str) -> None:
        """Start a node and wait until ``ready()``; a node that exits meanwhile is started again."""
        for attempt in range(1, START_ATTEMPTS + 1):
            self._start_node(args)
            try:
                self._wait(ready, timeout, what)
                return
            except NodeExitedError:
                if attempt == START_ATTEMPTS:
                    raise
                log.warning("%s exited while starting; starting it again", what)
                process = self._processes.pop()
                if _group_alive(process.pid):
                    os.killpg(process.pid, signal.SIGKILL)

    def alive_nodes(self) -> int:
        """Nodes the dashboard reports alive (0 while it is not up yet)."""
        return sum(node["state"] == "ALIVE" for node in self.nodes())

    def nodes(self) -> list[dict]:
        """``{"id", "head", "state"}`` of each node the dashboard knows ([] while it is not up yet)."""
        try:
            with urllib.request.urlopen(f"{self.dashboard_url}/nodes?view=summary", timeout=5) as response:
                nodes = json.load(response)["data"]["summary"]
        except (OSError, ValueError, KeyError):
            return []
        raylets = [node.get("raylet", {}) for node in nodes]
        return [{"id": r.get("nodeId"), "head": bool(r.get("isHeadNode")), "state": r.get("state")} for r in raylets]

    def kill_worker(self, index: int) -> None:
        """SIGKILL worker node ``index`` (1, 2, ...) and all it runs: a node lost mid-run. Its
        Ray workers may sit outside its process group, so every descendant is killed too, and
        this returns once none of them runs any more."""
        process = self._processes[index]
        doomed = _descendants(process.pid)
        os.killpg(process.pid, signal.SIGKILL)
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=STOP_GRACE_SECONDS)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while any(_running(pid) for pid in doomed) and time.monotonic() < deadline:
            time.sleep(0.05)

    def _wait(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            for index, process in enumerate(self._processes):
                if process.poll() is not None:
                    tail = self._node_log(index).read_text(errors="replace")[-2000:]
                    raise NodeExitedError(f"Ray node {index} exited while waiting for {what}:\n{tail}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} not up after {timeout:.0f}s")
            time.sleep(0.5)

    def stop(self) -> None:
        """SIGTERM each node's process group, SIGKILL what is left after a grace period."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for process in self._processes:
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    continue
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            while time.monotonic() < deadline and any(_group_alive(p.pid) for p in self._processes):
                time.sleep(0.2)
        for process in self._processes:
            process.wait(timeout=STOP_GRACE_SECONDS)
        self._processes.clear()
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, theirs, ...), read from ``/proc``."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def _running(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie, killed but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
