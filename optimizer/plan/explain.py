"""Why a hotspot or post is left out, and which constraint makes a request infeasible.

Every site missing from a solution gets one reason, checked in this order:

``no_group``
    No patrol group is allocated to the grid in the window.
``no_path``
    No street path joins the site to the groups' start and back, by their mode or on foot.
``unreachable``
    No group can get there (within a post's time window) and back to its station in its shift.
``post_conflict``
    A post whose time window collides with another post of the only group able to reach both.
``post_capacity``
    A post the groups could reach but not fit around their other posts.
``repeat_not_fitted``
    A hotspot visited, but a repeat visit did not fit (spacing or time).
``low_value``
    A reachable hotspot worth less than what the groups' time went to.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from optimizer.engines.base import Solution
from optimizer.errors import InfeasibleError
from optimizer.plan.types import LeftOut
from optimizer.problem import NO_PATH_S, PatrolProblem, Site, Vehicle
from optimizer.risk.hotspots import Hotspot
from optimizer.staff.roster import FixedPost

REASON_CODES: tuple[str, ...] = (
    "no_group",
    "no_path",
    "unreachable",
    "post_conflict",
    "post_capacity",
    "repeat_not_fitted",
    "low_value",
)


@dataclass(frozen=True)
class Reason:
    """Why one site is left out: a machine code and a sentence for people."""

    site_id: str
    kind: str
    grid_id: str
    code: str
    detail: str

    def to_left_out(self) -> LeftOut:
        """Return the plan's :class:`~optimizer.plan.day.LeftOut` (reason ``"code: detail"``)."""
        return LeftOut(self.site_id, self.kind, self.grid_id, f"{self.code}: {self.detail}")


def _mins(seconds: float) -> str:
    return f"{seconds / 60:.0f} min"


def _public_id(site: Site) -> str:
    if site.kind == "post":
        return str(site.meta.get("post", site.key or site.id))
    return site.key or site.id


def service_start(problem: PatrolProblem, vehicle: Vehicle, site: Site) -> int | None:
    """Return the earliest service start of ``site`` by ``vehicle`` going there directly.

    ``None`` when the group cannot start the visit within the site's window and still return
    to its end location before its shift ends.
    """
    t = problem.durations[vehicle.mode]
    arrive = vehicle.shift_start_s + int(t[vehicle.start_location, site.location])
    start = max(arrive, site.earliest_s)
    if site.latest_s is not None and start > site.latest_s:
        return None
    back = start + site.dwell_s + int(t[site.location, vehicle.end_location])
    return start if back <= vehicle.shift_end_s else None


def _round_trip(problem: PatrolProblem, vehicle: Vehicle, site: Site) -> int | None:
    """Travel time from the vehicle's start to ``site`` and on to its end; ``None``: no path."""
    t = problem.durations[vehicle.mode]
    there = int(t[vehicle.start_location, site.location])
    back = int(t[site.location, vehicle.end_location])
    if there >= NO_PATH_S or back >= NO_PATH_S:
        return None
    return there + back


def unservable_sites(problem: PatrolProblem) -> dict[int, Reason]:
    """Return the sites no vehicle can serve, each with its reason.

    A site no group can reach by street (``no_path``), or reach, stay at and come back from
    within its window and the group's shift (``unreachable``). These are left out before
    solving (``optimizer.plan.build``): no search could serve them, whatever its budget.
    """
    if not problem.vehicles:
        return {}
    out: dict[int, Reason] = {}
    for i, site in enumerate(problem.sites):
        if all(service_start(problem, v, site) is None for v in problem.vehicles):
            out[i] = explain_site(problem, None, i)
    return out


def _pair_fits(problem: PatrolProblem, v: Vehicle, a: Site, b: Site) -> bool:
    """Whether one group can serve ``a`` then ``b`` (directly) and get back in its shift."""
    t = problem.durations[v.mode]
    start_a = service_start(problem, v, a)
    if start_a is None:
        return False
    start_b = max(start_a + a.dwell_s + int(t[a.location, b.location]), b.earliest_s)
    if b.latest_s is not None and start_b > b.latest_s:
        return False
    return start_b + b.dwell_s + int(t[b.location, v.end_location]) <= v.shift_end_s


def _conflict(problem: PatrolProblem, vehicles: Sequence[Vehicle], a: Site, b: Site) -> bool:
    """Whether no group in ``vehicles`` can serve both ``a`` and ``b`` in either order."""
    return not any(_pair_fits(problem, v, a, b) or _pair_fits(problem, v, b, a) for v in vehicles)


def explain_site(
    problem: PatrolProblem,
    solution: Solution | None,
    index: int,
    *,
    grid_id: str = "",
) -> Reason:
    """Return why site ``problem.sites[index]`` is not in ``solution``.

    Parameters
    ----------
    problem
        The routing problem.
    solution
        The solution (``None``: nothing was solved, e.g. no group).
    index
        Index of the site in ``problem.sites``.
    grid_id
        Grid reported in the reason.

    Returns
    -------
    Reason
    """
    site = problem.sites[index]
    sid = _public_id(site)
    vehicles = problem.vehicles
    if not vehicles:
        return Reason(
            sid,
            site.kind,
            grid_id,
            "no_group",
            "no patrol group is allocated to this grid in this window",
        )
    able = [v for v in vehicles if service_start(problem, v, site) is not None]
    if not able:
        trips = [_round_trip(problem, v, site) for v in vehicles]
        if all(t is None for t in trips):
            modes = sorted({v.mode for v in vehicles})
            how = " or ".join(modes) if modes == ["foot"] else f"{' or '.join(modes)} or on foot"
            return Reason(
                sid,
                site.kind,
                grid_id,
                "no_path",
                f"no street path leads there from the groups' start and back ({how}): it lies "
                "on streets cut off from the rest of the network",
            )
        best = min(t for t in trips if t is not None) + site.dwell_s
        span = max(v.shift_end_s - v.shift_start_s for v in vehicles)
        if site.latest_s is not None and best <= span:
            detail = (
                f"no group can arrive before its window closes "
                f"({_mins(site.latest_s)} into the window) and get back in time"
            )
        elif best <= span:
            detail = (
                f"it cannot start before {_mins(site.earliest_s)} into the window, and then "
                f"the {_mins(best)} there, stay and back do not fit before the groups' end"
            )
        else:
            detail = (
                f"the nearest group needs {_mins(best)} to get there, stay and return; "
                f"the window has {_mins(span)}"
            )
        return Reason(sid, site.kind, grid_id, "unreachable", detail)
    visited = set() if solution is None else {v.site for r in solution.routes for v in r.visits}
    if site.required:
        others = [j for j, s in enumerate(problem.sites) if s.required and j != index]
        if len(able) == 1:
            for j in others:
                other = problem.sites[j]
                if (j in visited or solution is None) and _conflict(problem, able, site, other):
                    return Reason(
                        sid,
                        site.kind,
                        grid_id,
                        "post_conflict",
                        f"its window overlaps post {_public_id(other)} of the only group able to "
                        f"reach it ({able[0].id}); one group cannot staff both",
                    )
        return Reason(
            sid,
            site.kind,
            grid_id,
            "post_capacity",
            f"{len(able)} group(s) can reach it, but not around their other posts",
        )
    key = site.key or site.id
    if any((problem.sites[j].key or problem.sites[j].id) == key for j in visited):
        return Reason(
            sid,
            site.kind,
            grid_id,
            "repeat_not_fitted",
            f"visited, but visit {site.visit_number} did not fit "
            f"({_mins(site.min_spacing_s)} spacing)",
        )
    lowest = min(
        (problem.sites[j].prize for j in visited if not problem.sites[j].required), default=None
    )
    detail = f"value {site.prize:.3g} is below what the groups' time went to"
    if lowest is not None:
        detail += f" (lowest visited {lowest:.3g})"
    return Reason(sid, site.kind, grid_id, "low_value", detail)


def explain_left_out(
    problem: PatrolProblem,
    solution: Solution,
    *,
    grid_id: str = "",
    include_repeats: bool = False,
) -> list[Reason]:
    """Return one reason per site (hotspot or post) the solution leaves out.

    Parameters
    ----------
    problem, solution
        The routing problem and an engine's solution of it.
    grid_id
        Grid reported in the reasons.
    include_repeats
        Also explain repeat visits of hotspots visited at least once.

    Returns
    -------
    list of Reason
        One per left-out hotspot or post key, in site order.
    """
    visited = {v.site for r in solution.routes for v in r.visits}
    out: list[Reason] = []
    seen: set[str] = set()
    for i in range(len(problem.sites)):
        if i in visited:
            continue
        reason = explain_site(problem, solution, i, grid_id=grid_id)
        if reason.code == "repeat_not_fitted" and not include_repeats:
            continue
        key = f"{reason.kind}:{reason.site_id}"
        if key in seen:
            continue
        seen.add(key)
        out.append(reason)
    return out


def explain_without_groups(
    hotspots: Iterable[Hotspot],
    posts: Iterable[FixedPost],
    *,
    grid_id: str,
    detail: str = "no patrol group is allocated to this grid in this window",
    code: str = "no_group",
) -> list[Reason]:
    """Return reasons (``code``, default ``no_group``) for every hotspot and post of a cell
    that got no group."""
    out = [Reason(h.id, "hotspot", grid_id, code, detail) for h in hotspots]
    out += [Reason(p.id, "post", grid_id, code, detail) for p in posts]
    return out


def diagnose_infeasible(problem: PatrolProblem) -> InfeasibleError | None:
    """Return the first constraint that makes the required posts impossible, or ``None``.

    Checks, in order: ``no_group`` (posts but no group), ``post_unreachable`` (a post no group
    can reach in its window and return from), ``post_conflict`` (more posts pairwise in conflict
    than groups able to take them).
    """
    required = [i for i, s in enumerate(problem.sites) if s.required]
    if not required:
        return None
    if not problem.vehicles:
        ids = ", ".join(_public_id(problem.sites[i]) for i in required)
        return InfeasibleError("no_group", f"posts {ids} must be staffed but no group is available")
    for i in required:
        s = problem.sites[i]
        if not any(service_start(problem, v, s) is not None for v in problem.vehicles):
            return InfeasibleError(
                "post_unreachable",
                f"post {_public_id(s)} cannot be reached within its window "
                f"({_mins(s.earliest_s)}-{_mins(s.latest_s or problem.horizon_s)} into the window) "
                "by any group and left in time to return",
            )
    # a set of posts in pairwise conflict needs one group each
    conflicts = [
        (a, b)
        for a, b in itertools.combinations(required, 2)
        if _conflict(problem, problem.vehicles, problem.sites[a], problem.sites[b])
    ]
    if conflicts:
        clique = _greedy_clique(required, conflicts)
        if len(clique) > len(problem.vehicles):
            ids = ", ".join(_public_id(problem.sites[i]) for i in clique)
            return InfeasibleError(
                "post_conflict",
                f"posts {ids} overlap in time so each needs its own group; "
                f"only {len(problem.vehicles)} group(s) are available",
            )
    return None


def _greedy_clique(nodes: Sequence[int], edges: Sequence[tuple[int, int]]) -> list[int]:
    adj: dict[int, set[int]] = {n: set() for n in nodes}
    for a, b in edges:
        adj[a].add(b)
        adj[b].add(a)
    best: list[int] = []
    for start in sorted(nodes, key=lambda n: -len(adj[n])):
        clique = [start]
        for n in sorted(adj[start], key=lambda n: -len(adj[n])):
            if all(n in adj[c] for c in clique):
                clique.append(n)
        if len(clique) > len(best):
            best = clique
    return best


def reasons_frame(reasons: Iterable[Reason]) -> pd.DataFrame:
    """Return reasons as a table: site_id, kind, grid_id, code, detail."""
    return pd.DataFrame(
        [vars(r) for r in reasons], columns=["site_id", "kind", "grid_id", "code", "detail"]
    )
