"""A photo library through the command line, step by step: wall time, peak driver memory, the run
folder's files and bytes, and (run folder in S3) the object-store requests of each step.

    python bench/library_scale.py --images 2000 --shards 8 [--store s3|local] [--baseline REF]

N small photos (the bundled sample's people, each photo scaled down and jittered so every file
differs and the detector still finds its face) go through ``raypipe run`` (extract, cluster,
report), ``raypipe correct`` (merge the two largest clusters), a re-cluster (``raypipe cluster``)
and ``raypipe export --folders``. Each command runs in its own process as a user runs it; its
peak RSS is the driver's memory. With ``--store s3`` the run folder lives in a moto S3 server on
loopback that records every request it serves. ``--baseline REF`` runs the same steps on the same
photos with the code of git ``REF`` (a temporary worktree) and prints the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample" / "photos"
BUCKET = "library"
REPORT_FILES = "report_files"
STEPS = ("run", "correct", "recluster", "export")
BASELINE_STEPS = STEPS[:3]
#: One CLI call with its driver's peak memory (ru_maxrss, KiB on Linux) printed last on stderr.
CALL = ("import resource, sys; from raypipe.cli import main; code = main(sys.argv[1:]); "
        "print('peak_rss_kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(code)")  # fmt: skip


def make_library(folder: Path, count: int, side: int = 240, seed: int = 0) -> None:
    """``count`` JPEG photos under ``folder/<person>/``: sample photos at ``side`` px, each flipped,
    scaled, shifted and lit at random so that no two files are equal."""
    rng = np.random.default_rng(seed)
    sources = sorted(p for p in SAMPLE.glob("*/*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    images = [cv2.imread(str(p)) for p in sources]
    for n in range(count):
        source = n % len(sources)
        image = images[source]
        scale = side / max(image.shape[:2]) * rng.uniform(0.9, 1.1)
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        shift = np.float32([[1, 0, rng.integers(-8, 9)], [0, 1, rng.integers(-8, 9)]])
        small = cv2.warpAffine(small, shift, small.shape[1::-1], borderMode=cv2.BORDER_REFLECT)
        small = cv2.convertScaleAbs(small[:, ::-1] if rng.random() < 0.5 else small, alpha=rng.uniform(0.8, 1.2))
        target = folder / sources[source].parent.name / f"{n:07d}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(target), small, [cv2.IMWRITE_JPEG_QUALITY, 90])


class S3Server:
    """moto's S3 server on loopback, recording the requests it serves into a file."""

    def __init__(self, folder: Path):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{port}"
        self.recording = folder / "requests.jsonl"
        env = {**os.environ, "MOTO_ENABLE_RECORDING": "True", "MOTO_RECORDER_FILEPATH": str(self.recording)}
        self.process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        for _ in range(120):
            try:
                urllib.request.urlopen(self.endpoint, timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        self.client.create_bucket(Bucket=BUCKET)
        self.reset()

    @property
    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id="testing",
                            aws_secret_access_key="testing", region_name="us-east-1")  # fmt: skip

    @property
    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip

    def reset(self) -> None:
        self.recording.write_text("")

    def requests(self) -> dict[str, int]:
        """Requests served since the last :meth:`reset`, by HTTP method, and those for the
        report's images (``report_files/``: capped by the report, not by the run's size)."""
        # the server's threads append entries concurrently, two may share a line: find, not parse
        entries = re.findall(r'"method": "([A-Z]+)", "url": "([^"]*)"', self.recording.read_text())
        methods = [method for method, _ in entries]
        counts = {m: methods.count(m) for m in sorted(set(methods))}
        return {**counts, "report_files": sum(f"/{REPORT_FILES}/" in url for _, url in entries)}

    def objects(self, prefix: str) -> tuple[int, int, int]:
        """Objects under ``prefix``, their bytes, and how many are the report's images."""
        keys, size = [], 0
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"{prefix}/"):
            keys += [o["Key"] for o in page.get("Contents", [])]
            size += sum(o["Size"] for o in page.get("Contents", []))
        return len(keys), size, sum(key.startswith(f"{prefix}/{REPORT_FILES}/") for key in keys)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def local_objects(run: Path) -> tuple[int, int, int]:
    files = [p for p in run.rglob("*") if p.is_file() or p.is_symlink()]
    return len(files), sum(p.lstat().st_size for p in files), sum(p.is_relative_to(run / REPORT_FILES) for p in files)


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def raypipe(args: list[str], code: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """``raypipe ARGS`` run with the code under ``code``: (seconds, driver peak MiB, CPU seconds
    of the command's process and those it waited for: Ray's workers are not among them)."""
    env = {**env, "PYTHONPATH": str(code)}
    started, cpu = time.perf_counter(), child_cpu()
    done = subprocess.run([sys.executable, "-c", CALL, *args], env=env, cwd=code, capture_output=True, text=True, check=False)
    seconds, cpu = time.perf_counter() - started, child_cpu() - cpu
    if done.returncode != 0:
        raise RuntimeError(f"raypipe {' '.join(args)}: exit {done.returncode}\n{done.stderr[-3000:]}")
    peak = next(line for line in reversed(done.stderr.splitlines()) if line.startswith("peak_rss_kib"))
    return seconds, int(peak.split()[1]) / 1024, cpu


def library_steps(run: str, photos: Path, shard_size: int) -> list[tuple[str, list[str]]]:
    shards = [f"extract.shard_size={shard_size}", f"extract.max_shard_size={shard_size}"]
    return [
        ("run", ["run", str(photos), "--out", run, "--detector", "dlib-hog", "--embedder", "dlib",
                 "--no-tracking", *[a for s in shards for a in ("--set", s)]]),
        ("correct", ["correct", run, "merge", "0", "1"]),
        ("recluster", ["cluster", run, "--no-tracking"]),
        ("export", ["export", run, "--folders"]),
    ]  # fmt: skip


def measure(photos: Path, images: int, shards: int, code: Path, work: Path, s3: S3Server | None,
            steps: tuple[str, ...] = STEPS) -> list[dict]:  # fmt: skip
    """Every step on ``photos`` with the code under ``code``: one row of figures per step."""
    name = f"{code.name}-{images}"
    run = f"s3://{BUCKET}/{name}" if s3 else str(work / name)
    commands = [(step, args) for step, args in library_steps(run, photos, -(-images // shards)) if step in steps]
    return [run_step(step, args, code, s3, name, run, f"{code.name} N={images}") for step, args in commands]


def run_step(step: str, args: list[str], code: Path, s3: S3Server | None, name: str, run: str, label: str) -> dict:
    """One command on the run folder ``run`` (``name`` in the bucket): its row of figures."""
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "PYTHONPATH")}
    env.update(s3.env if s3 else {}, RAYPIPE_AUTO_FETCH="0")
    if s3:
        s3.reset()
    seconds, peak, cpu = raypipe(args, code, env)
    row = {"step": step, "seconds": seconds, "cpu_seconds": cpu, "peak_mib": peak}
    if s3:
        requests = s3.requests()
        row.update(requests=sum(v for k, v in requests.items() if k != "report_files"), by_method=requests)
        row["files"], row["bytes"], row["report_files"] = s3.objects(name)
    else:
        row["files"], row["bytes"], row["report_files"] = local_objects(Path(run))
    print(f"  {label} {step:9s} {seconds:7.1f}s  CPU {cpu:7.1f}s  driver {peak:6.0f} MiB  files {row['files']:7d} ({row['report_files']} report)  "
          f"{row['bytes'] / 2**20:8.1f} MiB  requests {row.get('requests', '-')} {row.get('by_method', '')}", flush=True)  # fmt: skip
    return row


@contextmanager
def code_of(ref: str | None, work: Path):
    """The repository's code as it is (``ref`` None), or at git ``ref`` in a temporary worktree."""
    if ref is None:
        yield REPO
        return
    tree = work / "baseline"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), ref], check=True, capture_output=True)
    try:
        yield tree
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False)


def library(photos: Path, images: int, shards: int, codes: dict[str, Path], work: Path, s3: S3Server | None,
            repeats: int) -> dict:  # fmt: skip
    """Every step with each code, then the re-cluster ``repeats`` more times, the codes taking
    turns (so that the machine's load weighs on both alike); the median re-cluster seconds."""
    result = {name: measure(photos, images, shards, code, work, s3, STEPS if name == "new" else BASELINE_STEPS)
              for name, code in codes.items()}  # fmt: skip
    again: dict[str, list[float]] = {name: [] for name in codes}
    for _ in range(repeats):
        for name, code in codes.items():
            again[name] += [row["seconds"] for row in measure(photos, images, shards, code, work, s3, ("recluster",))]
    result["recluster_median_s"] = {name: float(np.median(seconds)) for name, seconds in again.items() if seconds}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, nargs="+", default=[400], help="library sizes to run")
    parser.add_argument("--shards", type=int, default=4, help="shards per library (their size follows)")
    parser.add_argument("--store", choices=["s3", "local"], default="s3")
    parser.add_argument("--baseline", metavar="REF", help="git ref whose code runs the same steps")
    parser.add_argument("--repeats", type=int, default=3, help="extra re-clusters per code, for medians")
    parser.add_argument("--work", type=Path, help="folder for photos and local runs (default: a temporary one)")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(dir=args.work) as tmp, code_of(args.baseline, Path(tmp)) as baseline:
        work = Path(tmp)
        # before REF, clustering copied every chip into clustered_faces/: the baseline has no export step
        codes = {"new": REPO, **({"baseline": baseline} if args.baseline else {})}
        s3 = S3Server(work) if args.store == "s3" else None
        try:
            for images in args.images:
                photos = work / f"photos-{images}"
                make_library(photos, images)
                results[images] = library(photos, images, args.shards, codes, work, s3, args.repeats)
        finally:
            if s3:
                s3.close()
    print(json.dumps(results, indent=1))
    for images, result in results.items():
        medians = result["recluster_median_s"]
        if "baseline" in result:
            print(f"N={images}: re-cluster median {medians['new']:.1f}s vs {medians['baseline']:.1f}s before "
                  f"(x{medians['baseline'] / medians['new']:.2f} faster)")  # fmt: skip
            for new, old in zip(result["new"], result["baseline"]):
                print(f"N={images} {new['step']:9s} time x{old['seconds'] / new['seconds']:.2f} faster  files "
                      f"{new['files']} vs {old['files']}  requests {new.get('requests', '-')} vs {old.get('requests', '-')}")  # fmt: skip


if __name__ == "__main__":
    main()
