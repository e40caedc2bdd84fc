"""A synthetic city of about a thousand cells from real OSM extracts (benchmarks, tests).

Each district is a real extract imported offline with automatic grids, six months of synthetic
incidents and its own synthetic roster at the bureau's ratios (302 officers and 690 volunteers
per 91 finest cells, :meth:`~optimizer.synthetic.roster.RosterScale.for_cells`). The extracts
are the shared evaluation data (``../shared/data/osm``), read in place, never copied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from optimizer.errors import InputError


@dataclass(frozen=True)
class CityDistrict:
    """One district of a synthetic city: an extract, its grid levels and its time zone."""

    name: str
    osm: str
    """File name of the extract in the OSM folder."""
    levels: tuple[int, ...]
    """Cells per grid level (finest last), as ``--auto-grids``."""
    timezone: str

    @property
    def cells(self) -> int:
        """Finest-level cells."""
        return self.levels[-1]


SHARED_CITY: tuple[CityDistrict, ...] = (
    CityDistrict("longgang", "shenzhen_longgang.osm", (2, 13, 91), "Asia/Shanghai"),
    CityDistrict("haidian", "beijing_haidian_thu.osm", (1, 8, 56), "Asia/Shanghai"),
    CityDistrict("sanfrancisco", "SanFranciscoFiltered.osm", (2, 22, 154), "America/Los_Angeles"),
    CityDistrict("shanghai", "shanghai_center.osm", (4, 100, 700), "Asia/Shanghai"),
    CityDistrict("fengxian", "shanghai_fengxian.osm", (1, 2, 8), "Asia/Shanghai"),
    CityDistrict("ninghua", "ninghua_fujian_26N116E.osm", (1, 2, 8), "Asia/Shanghai"),
)
"""Six shared extracts, about 1.4-2.4 km of streets per finest cell: 91 cells (the bureau,
Longgang alone), 301 with the first three, 1,017 with all six."""


def city_subset(cells: int, city: Sequence[CityDistrict] = SHARED_CITY) -> list[CityDistrict]:
    """Return the first districts of ``city`` that together have at least ``cells`` cells."""
    out: list[CityDistrict] = []
    for d in city:
        if sum(x.cells for x in out) >= cells:
            break
        out.append(d)
    if sum(x.cells for x in out) < cells:
        total = sum(d.cells for d in city)
        raise InputError("cells", cells, f"at most the city's {total} cells")
    return out


def import_city(
    city: Sequence[CityDistrict],
    *,
    osm_dir: str | Path,
    data_dir: str | Path,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Import every district of ``city`` not yet under ``data_dir``; return their folders.

    A district folder that exists already is kept as it is (imports are seeded, so it is the
    same district).

    Parameters
    ----------
    city
        The districts.
    osm_dir
        Folder of the extracts (e.g. ``../shared/data/osm``).
    data_dir
        Folder of prepared districts to write to.
    seed
        Seed of the grids, incidents and rosters.
    progress
        Called with a message before each district.
    """
    from optimizer.importer import import_district

    folders = []
    for d in city:
        target = Path(data_dir) / d.name
        if not (target / "metadata.json").is_file():
            if progress is not None:
                progress(f"importing {d.name} ({d.osm}, {d.cells} cells)")
            import_district(
                d.name,
                Path(osm_dir) / d.osm,
                auto=d.levels,
                data_dir=data_dir,
                synthetic_incidents=True,
                timezone=d.timezone,
                seed=seed,
                check_grid_graphs=False,
            )
        folders.append(target)
    return folders
