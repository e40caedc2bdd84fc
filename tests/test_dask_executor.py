"""The Dask executor on a real ``distributed.LocalCluster`` of worker processes.

Plans are compared under deterministic work limits only (never wall-clock-limited results):
the same seed gives the same plan in-process, in the local pool and on Dask, and a worker
killed in the middle of a run loses no cell.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import Client, LocalCluster

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.plan.build import build_day, planning_grid_ids
from optimizer.plan.dask_executor import (
    RERUN_METRIC,
    DaskExecutor,
    job_cost_s,
    pack,
    plan_reruns,
    solve_batch,
)
from optimizer.plan.day import plan_day
from optimizer.plan.params import PlanParams
from optimizer.plan.solve import LocalPool, SolveJob, jobs_of, solve_job
from optimizer.timewindow import TimeWindow
from tests.conftest import DEMO_DAY, comparable

pytestmark = pytest.mark.slow

EVENING = "19:00-23:00"


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """Three single-threaded worker processes with nannies (a killed worker is restarted)."""
    with LocalCluster(
        n_workers=3,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        memory_limit=0,
        silence_logs=40,
    ) as local:
        yield local


@pytest.fixture(scope="module")
def client(cluster: LocalCluster) -> Iterator[Client]:
    with Client(cluster, set_as_default=False) as c:
        yield c


def demo_jobs(demo: District, *, budget_s: float = 0.5) -> list[SolveJob]:
    """The demo's finest cells in the evening window, as solve jobs."""
    problems = build_day(
        demo,
        day=DEMO_DAY,
        windows=[TimeWindow.parse(EVENING)],
        grid_ids=planning_grid_ids(demo, level=3),
        params=PlanParams(budget_s=budget_s),
        seed=4,
    )
    return jobs_of(problems)


def test_same_plan_in_process_in_the_pool_and_on_dask(demo: District, client: Client) -> None:
    cells = planning_grid_ids(demo, level=3)[:6]
    kwargs: dict[str, Any] = {"day": DEMO_DAY, "windows": [EVENING], "grid_ids": cells, "seed": 7}
    here = plan_day(demo, **kwargs)
    with LocalPool(2) as pool:
        pooled = plan_day(demo, executor=pool, **kwargs)
    with DaskExecutor(client=client) as dask:
        spread = plan_day(demo, executor=dask, **kwargs)
        again = plan_day(demo, executor=dask, **kwargs)  # connection kept between runs
        report = dask.report
    assert len(here.windows) == 6 and here.routes
    assert comparable(here) == comparable(pooled) == comparable(spread) == comparable(again)
    assert here.metrics["time_cap_bound"] == 0
    assert plan_reruns(spread) == 0
    # each task carries its cells' own matrices: a few KB to some tens of KB
    assert 0 < report.tasks <= report.jobs
    assert 1_000 < report.bytes_per_task < 200_000
    assert report.workers == 3


def _running(client: Client) -> dict[str, list[str]]:
    """Keys each worker is executing now (not only assigned)."""

    def executing(dask_worker: Any) -> list[str]:
        return [str(ts.key) for ts in dask_worker.state.executing]

    return {a: keys for a, keys in client.run(executing).items() if keys}


def test_a_killed_worker_loses_no_cell(demo: District, client: Client) -> None:
    # tasks of a second or so each, so that one is running when its worker is killed
    jobs = demo_jobs(demo, budget_s=1.5)
    expected = [solve_job(job) for job in jobs]
    killed: list[int] = []
    seen: dict[int, Any] = {}
    with DaskExecutor(client=client, batch_s=0) as dask:
        for k, outcome in dask.run(jobs):
            assert k not in seen  # no job is yielded twice
            seen[k] = outcome
            if not killed:
                deadline = time.monotonic() + 600  # a busy machine starts tasks late
                running = _running(client)
                while not running and time.monotonic() < deadline:
                    time.sleep(0.05)
                    running = _running(client)
                victim = sorted(running)[0]
                pid = client.run(os.getpid, workers=[victim])[victim]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        report = dask.report
    assert killed
    assert sorted(seen) == list(range(len(jobs)))  # every cell came back
    for k, outcome in seen.items():
        assert outcome.solution.routes == expected[k].solution.routes, k
    assert report.reruns >= 1 and report.rerun_jobs >= 1
    rerun = [o for o in seen.values() if o.metrics.get(RERUN_METRIC, 0) >= 1]
    assert len(rerun) == report.rerun_jobs
    client.wait_for_workers(3, timeout=600)  # the nanny brings the worker back


def test_a_lost_worker_is_in_the_plan(demo: District) -> None:
    plan = plan_day(demo, day=DEMO_DAY, windows=[EVENING], grid_ids=["D-1-1"], seed=7)
    assert plan_reruns(plan) == 0
    wp = plan.windows[0]
    wp.metrics[RERUN_METRIC] = 1.0  # as assembled from an outcome that ran twice
    assert plan_reruns(plan) == 1


def test_largest_first_and_tiny_cells_packed(demo: District) -> None:
    jobs = demo_jobs(demo)
    cost = [job_cost_s(j) for j in jobs]
    alone = pack(jobs, batch_s=0)
    assert sorted(k for (k,) in alone) == list(range(len(jobs)))
    assert [cost[k] for (k,) in alone] == sorted(cost, reverse=True)
    packed = pack(jobs, batch_s=2 * max(cost))
    assert sorted(k for t in packed for k in t) == list(range(len(jobs)))
    assert len(packed) < len(jobs)
    sums = [sum(cost[k] for k in t) for t in packed]
    assert sums == sorted(sums, reverse=True)
    assert all(s >= 2 * max(cost) for s in sums[:-1])  # only the last batch may be short
    assert [o.solution.routes for o in solve_batch(jobs[:2])] == [
        solve_job(j).solution.routes for j in jobs[:2]
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "scheduler"),
        ({"scheduler": " "}, "scheduler"),
        ({"scheduler": "tcp://127.0.0.1:1", "batch_s": -1}, "batch_s"),
        ({"scheduler": "tcp://127.0.0.1:1", "retries": -1}, "retries"),
        ({"scheduler": "tcp://127.0.0.1:1", "in_flight": 0}, "in_flight"),
    ],
)
def test_bad_options_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as info:
        DaskExecutor(**kwargs)
    assert info.value.field == field


def test_patrol_plan_on_a_scheduler(
    cluster: LocalCluster,
    demo_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from optimizer.cli import main

    districts = tmp_path / "districts"
    districts.mkdir()
    (districts / "demo").symlink_to(demo_dir, target_is_directory=True)
    monkeypatch.setenv("PATROL_DATA_DIR", str(districts))
    monkeypatch.delenv("PATROL_DASK_SCHEDULER", raising=False)
    address = cluster.scheduler_address
    args = ["plan", "--date", DEMO_DAY.isoformat(), "--window", EVENING, "--grid-level", "3"]
    args += ["--seed", "7", "--no-maps", "--quiet"]
    assert main([*args, "--executor", "dask", "--out", str(tmp_path / "x")]) == 2
    assert "PATROL_DASK_SCHEDULER" in capsys.readouterr().err
    assert main([*args, "--scheduler", address, "--out", str(tmp_path / "x")]) == 2
    assert "--executor dask" in capsys.readouterr().err
    assert main([*args, "--workers", "1", "--out", str(tmp_path / "local")]) == 0
    assert (
        main([*args, "--executor", "dask", "--scheduler", address, "--out", str(tmp_path / "a")])
        == 0
    )
    monkeypatch.setenv("PATROL_DASK_SCHEDULER", address)
    assert main([*args, "--executor", "dask", "--out", str(tmp_path / "b")]) == 0
    written = [
        [(tmp_path / d / f).read_bytes() for f in ("schedule.csv", "routes.geojson")]
        for d in ("local", "a", "b")
    ]
    assert written[0] == written[1] == written[2]


def test_the_service_reads_the_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    from api.settings import Settings

    assert Settings().dask_scheduler is None
    monkeypatch.setenv("PATROL_DASK_SCHEDULER", "tcp://10.1.2.3:8786")
    assert Settings().dask_scheduler == "tcp://10.1.2.3:8786"


def test_a_city_on_dask(demo: District, client: Client) -> None:
    from optimizer.plan.city import plan_city

    city = [demo, dataclasses.replace(demo, name="demo-east")]
    kwargs: dict[str, Any] = {"day": DEMO_DAY, "windows": [EVENING], "grid_level": 2, "seed": 2}
    with DaskExecutor(client=client) as dask:
        spread = plan_city(city, executor=dask, districts_at_once=2, **kwargs)
        reports = list(dask.reports)
    here = plan_city(city, districts_at_once=1, **kwargs)
    assert [comparable(p) for p in spread.plans] == [comparable(p) for p in here.plans]
    assert len(reports) == 2 and sum(r.jobs for r in reports) == sum(
        t.problems for t in spread.timings
    )


def test_a_service_planning_job_solves_on_the_scheduler(
    cluster: LocalCluster, client: Client, tmp_path: Path
) -> None:
    from optimizer.plan.dask_executor import START_TOPIC
    from tests.api.conftest import make_api
    from tests.api.test_plans import wait_job

    before = len(client.get_events(START_TOPIC))
    api = make_api(
        f"sqlite:///{tmp_path / 'patrol.sqlite'}", dask_scheduler=cluster.scheduler_address
    )
    body = {"district": "demo", "date": DEMO_DAY.isoformat(), "windows": [EVENING], "seed": 3}
    with api.client:
        r = api.client.post("/plans", json=body, headers=api.headers("planner"))
        assert r.status_code == 202, r.text
        job = wait_job(api, r.json()["id"])
    assert job["status"] == "done", job
    assert job["result"]["routes"] > 0
    assert len(client.get_events(START_TOPIC)) > before  # its cells were solved on the workers
