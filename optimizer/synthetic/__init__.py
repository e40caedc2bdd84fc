"""Synthetic data for the demo, tests and benchmarks: districts, incidents, rosters."""
