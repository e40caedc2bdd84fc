"""An engine's solution as group routes: timed stops, street paths, left-out sites."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

from shapely.geometry import LineString

from optimizer.district import District
from optimizer.engines.base import Solution
from optimizer.plan.build import ProblemContext
from optimizer.plan.streets import Router, place_name, street_path
from optimizer.plan.types import GroupRoute, LeftOut, Stop
from optimizer.problem import PatrolProblem

LONG_WAIT_MIN = 15.0
"""A wait longer than this at a hotspot is shown as area patrol around it (see
:func:`routes_from_solution`)."""


def routes_from_solution(
    district: District,
    problem: PatrolProblem,
    context: ProblemContext,
    solution: Solution,
    router: Router,
) -> tuple[list[GroupRoute], list[LeftOut]]:
    """Turn an engine's solution into timed, street-following group routes and left-out sites."""
    G = district.graph
    start = context.start
    stations = [district.resources.station(s) for s in context.depot_ids]
    hot_by_id = {h.id: h for h in context.hotspots}
    routes: list[GroupRoute] = []
    for r in solution.routes:
        if not r.visits:
            continue
        group = context.groups[r.vehicle]
        vehicle = problem.vehicles[r.vehicle]
        station = stations[vehicle.start_location]
        when = start + dt.timedelta(seconds=r.start_s)
        stops = [
            Stop(
                0,
                station.id,
                "start",
                station.name,
                station.lon,
                station.lat,
                when,
                when,
                "leave station",
            )
        ]
        node_seq = [context.location_nodes[vehicle.start_location]]
        prev_departure = r.start_s
        value = 0.0
        dwell = 0.0
        for visit in r.visits:
            site = problem.sites[visit.site]
            node = context.location_nodes[site.location]
            node_seq.append(node)
            nd = G.nodes[node]
            if site.kind == "post":
                name = str(site.meta.get("name", site.id))
                purpose = f"staff {site.meta.get('purpose', 'post')}"
                pid = str(site.meta.get("post", site.id))
            else:
                h = hot_by_id.get(str(site.meta.get("hotspot", site.key)))
                name = place_name(G, node) or site.key or site.id
                what = f": {h.label}" if h is not None and h.label else ""
                again = f" (visit {site.visit_number})" if site.visit_number > 1 else ""
                purpose = f"patrol hotspot{again}{what}"
                wait = (visit.start_s - visit.arrival_s) / 60
                if stops[-1].site_id == (site.key or site.id) and stops[-1].kind == "hotspot":
                    # straight from the previous pass: the leg is a walk round the hotspot
                    loop = (visit.arrival_s - prev_departure) / 60
                    purpose = f"area patrol around {name} ({loop + wait:.0f} min), then {purpose}"
                elif wait > LONG_WAIT_MIN:
                    # the group is early for this pass: it walks the hotspot's streets meanwhile
                    purpose = f"area patrol around {name} ({wait:.0f} min), then {purpose}"
                pid = site.key or site.id
            prev_departure = visit.departure_s
            value += site.prize
            dwell += (visit.departure_s - visit.start_s) / 60
            stops.append(
                Stop(
                    len(stops),
                    pid,
                    site.kind,
                    name,
                    float(nd["lon"]),
                    float(nd["lat"]),
                    start + dt.timedelta(seconds=visit.arrival_s),
                    start + dt.timedelta(seconds=visit.departure_s),
                    purpose,
                    float(site.prize),
                    round(max(0, visit.start_s - visit.arrival_s) / 60, 1),
                )
            )
        end_node = context.location_nodes[vehicle.end_location]
        node_seq.append(end_node)
        end_when = start + dt.timedelta(seconds=r.end_s)
        stops.append(
            Stop(
                len(stops),
                station.id,
                "end",
                station.name,
                station.lon,
                station.lat,
                end_when,
                end_when,
                "return to station",
            )
        )
        path_nodes: list[int] = [node_seq[0]]
        for u, v in pairwise(node_seq):
            if u != v:
                path_nodes.extend(street_path(router, u, v, group.mode)[1:])
        coords = router.path_coords(path_nodes)
        if len(coords) < 2:
            coords = [coords[0], coords[0]] if coords else [(station.lon, station.lat)] * 2
        distance = float(
            sum(
                min(float(d.get("length", 0.0)) for d in G[a][b].values())
                for a, b in pairwise(path_nodes)
            )
        )
        routes.append(
            GroupRoute(
                group,
                tuple(stops),
                LineString(coords),
                round(distance, 1),
                round((r.end_s - r.start_s) / 60, 1),
                round(dwell, 1),
                float(value),
            )
        )
    from optimizer.plan.explain import explain_left_out  # explain imports this module

    reasons = explain_left_out(problem, solution, grid_id=context.grid_id)
    # A hotspot with any pass made is not left out, whatever became of its extra passes (a
    # late pass may be out of reach, which explain reports before it looks for visits).
    visited = {s.site_id for r in routes for s in r.stops if s.kind == "hotspot"}
    left = [r.to_left_out() for r in reasons if not (r.kind == "hotspot" and r.site_id in visited)]
    return routes, left
