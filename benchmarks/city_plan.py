"""City benchmark: a city's day planned on Dask distributed, by cells and local workers.

Protocol
--------
City
    The six shared OSM extracts (``$PATROL_SHARED_DIR/data/osm``, default ``../shared``) as
    ``optimizer.synthetic.city.SHARED_CITY``: each imported offline with automatic grids,
    six months of synthetic incidents and its own synthetic roster at the bureau's ratios
    (302 officers, 690 volunteers per 91 finest cells), seed 0, into ``--data-dir`` (kept
    between runs; the import is not timed). Sizes (``--sizes``) are the first districts that
    reach the count (``city_subset``): 91 cells (Longgang, the bureau), 301 (+ Haidian, San
    Francisco), 1,017 (+ Shanghai centre, Fengxian, Ninghua).
Plan
    ``optimizer.plan.city.plan_city`` over the finest cells (level 3), day 2026-11-30 (a
    Monday), one window ``--window`` (default 19:00-23:00; the default three windows are three
    times the work of the same kind), seed 0, budget ``--budget`` seconds of the reference
    machine per cell problem (deterministic work: the same plan whatever the workers or the
    load; default ``PlanParams().budget_s``, the service's; a smaller budget makes the
    overheads' share larger), two districts in hand at a time (``districts_at_once=2``).
Cluster
    For every size and every worker count (``--workers``, default 1, 2, 4) a fresh
    ``dask scheduler`` process and ``dask worker --nworkers N --nthreads 1`` (one solve per
    process, no memory limit) on 127.0.0.1; this process is the client: it builds each
    district's problems and assembles its plan (``plan_day``), the workers solve
    (``optimizer.plan.dask_executor.DaskExecutor``, default packing and tasks in flight).
    On a 2-core machine 4 workers oversubscribe the cores: their figures show the cost of
    that, not a speed-up.
Figures per run
    ``wall_s`` (the whole city: build + solve + assemble), ``cells``, ``problems`` (cell
    problems with groups), ``tasks``; peak resident memory (``VmHWM``) of the scheduler, of
    each worker process, and of this client (its peak so far: sizes run in increasing order);
    ``bytes_per_task`` and ``max_task_bytes`` (pickled jobs sent); shares of the workers' time
    (worker threads x wall): ``solve`` (Dask's ``compute`` time of the tasks), ``transfer``
    (every other task-stream action, e.g. deserialising, plus this client's pickling of the
    jobs), ``waiting`` (the rest: waiting for this process to build and assemble, scheduler
    round trips, the tail); the client's build / solve / assemble seconds summed over
    districts; ``compute_s_per_cell``; the workers' CPU seconds (user + system, warm-up
    included) per cell and over their compute time (``cpu_per_compute`` below 1: the workers
    waited for a core, the machine was oversubscribed); ``same_plan`` (identical plans for
    every worker count of a size); the load average at the start and end of the run.
Growth
    For each worker count, wall and compute per cell at each size relative to the smallest
    (1.0 = linear in cells).

Run ``python benchmarks/city_plan.py`` (about half an hour on 2 cores); ``--sizes 91
--workers 1,2`` for a quick look. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from distributed import Client, get_task_stream  # noqa: E402

from optimizer.outputs.plan_io import plan_to_dict  # noqa: E402
from optimizer.plan.city import CityPlan, plan_city  # noqa: E402
from optimizer.plan.dask_executor import DaskExecutor  # noqa: E402
from optimizer.plan.params import PlanParams  # noqa: E402
from optimizer.synthetic.city import SHARED_CITY, city_subset, import_city  # noqa: E402

DAY = dt.date(2026, 11, 30)


def peak_rss_mb() -> float:
    """Peak resident memory of the calling process in MB (``VmHWM``: unlike ``ru_maxrss`` it
    starts afresh at ``exec``, so a child does not inherit this process's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def cpu_s() -> float:
    """CPU seconds (user + system) the calling process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def local_cluster(workers: int) -> Iterator[str]:
    """Start ``dask scheduler`` and ``dask worker --nworkers N --nthreads 1``; yield the address."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler_cmd = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    scheduler_cmd += ["--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]
    worker_cmd = [sys.executable, "-m", "distributed.cli.dask_worker", address]
    worker_cmd += ["--nworkers", str(workers), "--nthreads", "1", "--memory-limit", "0"]
    worker_cmd += ["--no-dashboard", "--host", "127.0.0.1"]
    quiet = subprocess.DEVNULL
    scheduler = subprocess.Popen(scheduler_cmd, stdout=quiet, stderr=quiet)
    worker = subprocess.Popen(worker_cmd, cwd=ROOT, stdout=quiet, stderr=quiet)
    try:
        yield address
    finally:
        for proc in (worker, scheduler):
            proc.terminate()
        for proc in (worker, scheduler):
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


def plan_digest(plan: CityPlan) -> str:
    """A hash of the city's plans without the solvers' run times (equal plans, equal hash)."""
    data = []
    for p in plan.plans:
        d = plan_to_dict(p)
        for w in d["windows"]:
            w["metrics"].pop("solver_runtime_s", None)
            w["metrics"].pop("solve_reruns", None)
        d["settings"].pop("workers", None)
        data.append(d)
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def task_times(stream: list[dict[str, Any]]) -> tuple[float, float]:
    """Return (compute, other) seconds of a Dask task stream's actions."""
    compute = other = 0.0
    for task in stream:
        for ss in task.get("startstops", ()):
            span = float(ss["stop"]) - float(ss["start"])
            if ss["action"] == "compute":
                compute += span
            else:
                other += span
    return compute, other


def one_run(folders: list[Path], workers: int, args: argparse.Namespace) -> dict[str, Any]:
    """Plan the city on a fresh local cluster of ``workers`` processes; return its figures."""
    load0 = os.getloadavg()[0]
    with (
        local_cluster(workers) as address,
        Client(address, timeout=60, set_as_default=False) as client,
    ):
        client.wait_for_workers(workers, timeout=180)
        with DaskExecutor(client=client) as executor:
            executor.client  # noqa: B018 - connect and warm the workers before the clock
            started = time.perf_counter()
            with get_task_stream(client) as stream:
                plan = plan_city(
                    folders,
                    day=DAY,
                    windows=[args.window],
                    grid_level=3,
                    params=PlanParams(budget_s=args.budget),
                    seed=0,
                    executor=executor,
                    districts_at_once=2,
                )
            wall = time.perf_counter() - started
            reports = list(executor.reports)
        workers_mb = sorted(client.run(peak_rss_mb).values())
        workers_cpu = float(sum(client.run(cpu_s).values()))
        scheduler_mb = float(client.run_on_scheduler(peak_rss_mb))
    compute, other = task_times(stream.data)
    tasks = sum(r.tasks for r in reports)
    sent = sum(r.bytes_sent for r in reports)
    pickling = sum(r.pickle_s for r in reports)
    capacity = workers * wall
    cells = int(plan.metrics["cells"])
    timings = plan.timings
    return {
        "cells": cells,
        "workers": workers,
        "wall_s": round(wall, 2),
        "problems": sum(t.problems for t in timings),
        "tasks": tasks,
        "bytes_per_task": round(sent / tasks) if tasks else 0,
        "max_task_bytes": max((r.max_task_bytes for r in reports), default=0),
        "scheduler_peak_mb": round(scheduler_mb, 1),
        "worker_peak_mb": [round(m, 1) for m in workers_mb],
        "client_peak_mb": round(peak_rss_mb(), 1),
        "share_solve": round(compute / capacity, 3),
        "share_transfer": round((other + pickling) / capacity, 4),
        "share_waiting": round(max(0.0, 1 - (compute + other + pickling) / capacity), 3),
        "compute_s": round(compute, 2),
        "compute_s_per_cell": round(compute / cells, 4),
        "worker_cpu_s": round(workers_cpu, 2),
        "cpu_s_per_cell": round(workers_cpu / cells, 4),
        "cpu_per_compute": round(workers_cpu / compute, 3) if compute else 0.0,
        "client_build_s": round(sum(t.build_s for t in timings), 2),
        "client_assemble_s": round(sum(t.assemble_s for t in timings), 2),
        "reruns": sum(r.reruns for r in reports),
        "time_cap_bound": plan.metrics["time_cap_bound"],
        "groups": plan.metrics["groups"],
        "coverage": plan.metrics["coverage"],
        "digest": plan_digest(plan),
        "load_start": round(load0, 2),
        "load_end": round(os.getloadavg()[0], 2),
    }


def growth(runs: list[dict[str, Any]]) -> dict[str, dict[str, list[float]]]:
    """Per worker count: wall and compute per cell at each size over the smallest size's."""
    out: dict[str, dict[str, list[float]]] = {}
    for n in sorted({r["workers"] for r in runs}):
        mine = sorted((r for r in runs if r["workers"] == n), key=lambda r: r["cells"])
        base = mine[0]
        out[str(n)] = {
            "cells": [float(r["cells"]) for r in mine],
            "wall_per_cell_rel": [
                round((r["wall_s"] / r["cells"]) / (base["wall_s"] / base["cells"]), 3)
                for r in mine
            ],
            "compute_per_cell_rel": [
                round(r["compute_s_per_cell"] / base["compute_s_per_cell"], 3) for r in mine
            ],
        }
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print a line per run, then one JSON object."""
    shared = Path(os.environ.get("PATROL_SHARED_DIR", ROOT.parent / "shared"))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="91,300,1017", help="cell counts (default 91,300,1017)")
    p.add_argument("--workers", default="1,2,4", help="local worker processes (default 1,2,4)")
    p.add_argument(
        "--budget", type=float, default=PlanParams().budget_s, help="budget per cell problem (s)"
    )
    p.add_argument("--window", default="19:00-23:00")
    p.add_argument("--osm-dir", type=Path, default=shared / "data" / "osm")
    p.add_argument("--data-dir", type=Path, default=ROOT / "out" / "bench-city")
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the cluster on a kill too
    sizes = [int(s) for s in args.sizes.split(",")]
    counts = [int(w) for w in args.workers.split(",")]
    if not args.osm_dir.is_dir():
        print(f"no OSM extracts at {args.osm_dir} (set PATROL_SHARED_DIR)", file=sys.stderr)
        return 2
    import_city(SHARED_CITY, osm_dir=args.osm_dir, data_dir=args.data_dir, progress=print, seed=0)
    runs = []
    for size in sorted(sizes):
        names = [d.name for d in city_subset(size)]
        folders = [args.data_dir / n for n in names]
        for n in counts:
            run = one_run(folders, n, args)
            run["districts"] = names
            runs.append(run)
            print(
                f"{run['cells']:5d} cells {n} workers: {run['wall_s']:8.1f} s wall, "
                f"solve/transfer/wait {run['share_solve']:.0%}/{run['share_transfer']:.1%}/"
                f"{run['share_waiting']:.0%}, {run['bytes_per_task'] / 1000:.1f} KB/task, "
                f"scheduler {run['scheduler_peak_mb']:.0f} MB, workers "
                f"{max(run['worker_peak_mb']):.0f} MB, client {run['client_peak_mb']:.0f} MB "
                f"(load {run['load_start']:.1f}-{run['load_end']:.1f})",
                flush=True,
            )
    same = {
        str(c): len({r["digest"] for r in runs if r["cells"] == c}) == 1
        for c in sorted({r["cells"] for r in runs})
    }
    print(
        json.dumps(
            {
                "benchmark": "city_plan",
                "budget_s": args.budget,
                "window": args.window,
                "cpu_count": os.cpu_count(),
                "same_plan_across_workers": same,
                "growth": growth(runs),
                "runs": runs,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
