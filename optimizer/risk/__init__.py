"""Risk: incident intake, categories, the risk model and the hotspots it yields per window."""
