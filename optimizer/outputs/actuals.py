"""Plan vs actual on a map: the planned routes with the recorded tracks, missed and late stops.

Each map is the plan's area map (:func:`optimizer.outputs.maps.area_figure`) with the groups'
recorded tracks drawn over it as dashed black lines, missed stops crossed in red and late stops
ringed in orange; the legend panel keeps the plan's entries and adds these three.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from optimizer.district import District
from optimizer.operations.tracks import LATE, MISSED, PlanActuals, Track
from optimizer.outputs.maps import PlanMapData, area_figure, window_file_stem
from optimizer.plan.types import DayPlan

TRACK_COLOUR = "#111111"
MISSED_COLOUR = "#d62728"
LATE_COLOUR = "#ff7f0e"


def actuals_figure(
    data: PlanMapData,
    actuals: PlanActuals,
    tracks: Sequence[Track],
    *,
    window: str,
    area: str,
) -> Figure:
    """Draw one area's plan in one window with the tracks and the stops missed or late.

    Parameters
    ----------
    data
        The prepared plan (:meth:`PlanMapData.build`).
    actuals
        The plan matched to the tracks (:func:`optimizer.operations.tracks.match_tracks`).
    tracks
        The recorded tracks (those of the area's groups in the window are drawn).
    window
        Window label ``HH:MM-HH:MM``.
    area
        Cell id, as for :func:`~optimizer.outputs.maps.area_figure`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.lines import Line2D
    from pyproj import Transformer

    fig = area_figure(data, window=window, area=area)
    ax, side = fig.axes[0], fig.axes[1]
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    wps = data.window_plans(window, area)
    groups = {r.group.id: r for wp in wps for r in wp.routes}
    to_xy = Transformer.from_crs("EPSG:4326", data.crs, always_xy=True)
    for tr in tracks:
        if tr.group_id not in groups or not len(tr):
            continue
        xs, ys = to_xy.transform(np.asarray(tr.lon), np.asarray(tr.lat))
        ax.plot(xs, ys, color=TRACK_COLOUR, lw=1.1, ls=(0, (3, 2)), zorder=8, alpha=0.85)
    for s in actuals.stops:
        if s.window != window or s.group_id not in groups or s.status not in (MISSED, LATE):
            continue
        stop = next(x for x in groups[s.group_id].stops if x.sequence == s.sequence)
        x, y = to_xy.transform(stop.lon, stop.lat)
        if s.status == MISSED:
            ax.plot([x], [y], marker="x", ms=11, mew=2.4, color=MISSED_COLOUR, zorder=9)
        else:
            ax.plot([x], [y], marker="o", ms=13, mfc="none", mew=2.0, color=LATE_COLOUR, zorder=9)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    handles = [
        Line2D([], [], color=TRACK_COLOUR, lw=1.1, ls=(0, (3, 2)), label="recorded track"),
        Line2D([], [], color=MISSED_COLOUR, marker="x", ls="", mew=2.4, label="stop missed"),
        Line2D(
            [], [], color=LATE_COLOUR, marker="o", mfc="none", ls="", mew=2.0, label="stop late"
        ),
    ]
    kept = side.get_legend()
    side.legend(
        handles=handles, loc="center left", bbox_to_anchor=(0.0, 0.45), frameon=False, fontsize=8
    )
    if kept is not None:
        side.add_artist(kept)  # a second legend replaces the first unless it is kept as an artist
    return fig


def write_actuals_maps(
    plan: DayPlan,
    actuals: PlanActuals,
    tracks: Sequence[Track],
    directory: str | Path,
    *,
    district: District,
    dpi: int = 120,
) -> list[Path]:
    """Write one map per window and planned cell with a tracked group; return the files.

    Files are ``actual-<HHMM-HHMM>-<cell>.png`` in ``directory``.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    data = PlanMapData.build(plan, district)
    tracked = {t.group_id for t in tracks if len(t)}
    written = []
    for wp in plan.windows:
        if not any(r.group.id in tracked for r in wp.routes):
            continue
        label = wp.window.label()
        fig = actuals_figure(data, actuals, tracks, window=label, area=wp.grid_id)
        out = folder / f"actual-{window_file_stem(label)}-{wp.grid_id}.png"
        fig.savefig(out, dpi=dpi)
        written.append(out)
    return written
