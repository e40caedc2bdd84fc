"""One router per resource: districts, incidents, resources, hotspots, plans, replan, keys."""
