"""Streets: OSM import and travel modes, the routable street network, grids and auto-gridding."""
