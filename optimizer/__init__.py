"""Patrol route optimisation: street graphs, incident hotspots, joint patrol groups and routes.

The library has no web server and no database; ``api`` is a thin layer over it. Import the
modules you need (``optimizer.plan.day``, ``optimizer.district`` ...); this package imports nothing
heavy on its own.
"""

__version__ = "0.1.0"
