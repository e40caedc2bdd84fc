"""A prepared district: grid hierarchy, street graph, resources and metadata.

On disk a district is a folder ``data/grids/<name>/`` (see ``optimizer.storage`` for the
formats). ``load_district("demo")`` builds the embedded demo on first use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import networkx as nx
import pandas as pd

from optimizer.risk.cache import RiskCache
from optimizer.staff.roster import Resources
from optimizer.timezones import known_zone

if TYPE_CHECKING:
    from optimizer.streets.network import StreetRouter

DATA_DIR_ENV = "PATROL_DATA_DIR"


def default_data_dir() -> Path:
    """Return the folder of prepared districts: ``$PATROL_DATA_DIR`` or ``<repo>/data/grids``."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "data" / "grids"


@dataclass
class District:
    """One prepared district.

    Attributes
    ----------
    name
        Folder name, e.g. ``"demo"``.
    grids
        GeoDataFrame indexed by grid ``id`` with columns ``level`` (1..3), ``parent``
        (id or None), ``name`` and ``geometry`` (polygons, EPSG:4326).
    graph
        Street graph: osmnx MultiDiGraph projected to a metric CRS (``graph.graph["crs"]``),
        edges with ``length`` (m) and ``travel_time_<mode>`` (s) for foot, bicycle, car;
        nodes with ``x``, ``y`` (projected) and ``lon``, ``lat``.
    resources
        Stations, officers, volunteer teams, fixed posts.
    incidents
        Incident history (see ``optimizer.risk.incidents``), or None.
    metadata
        Source file, checksum, import time, counts, CRS.
    terrain
        Risk-terrain places read from the OSM extract at import
        (:func:`optimizer.risk.terrain.read_terrain`), or None.
    risk_cache
        Fitted forecasters of this district (filled by ``optimizer.risk.hotspots``).
    """

    name: str
    grids: gpd.GeoDataFrame
    graph: nx.MultiDiGraph
    resources: Resources
    incidents: gpd.GeoDataFrame | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    terrain: pd.DataFrame | None = None
    risk_cache: RiskCache = field(default_factory=RiskCache, repr=False, compare=False)
    _network: StreetRouter | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def network(self) -> StreetRouter:
        """The routable street network of :attr:`graph`, built on first use and kept.

        Built once per district object (its all-pairs tables are the expensive part); replace
        the district object, not its graph, when the streets change.
        """
        if self._network is None or self._network.G is not self.graph:
            from optimizer.streets.network import StreetRouter

            self._network = StreetRouter(self.graph)
        return self._network

    @property
    def timezone(self) -> ZoneInfo | None:
        """The district's time zone (``metadata["timezone"]``, an IANA name), if known."""
        return known_zone(self.metadata.get("timezone"))

    @property
    def crs(self) -> Any:
        """The projected CRS of the street graph."""
        return self.graph.graph["crs"]

    def leaf_grid_ids(self) -> list[str]:
        """Ids of the finest-level grids, sorted."""
        level = int(self.grids["level"].max())
        return sorted(str(i) for i in self.grids.index[self.grids["level"] == level])
