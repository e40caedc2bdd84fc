"""Benchmarks: each module states its protocol at the top and runs as a script.

The package lets tests import the benchmark harnesses (``from benchmarks import top``).
"""
