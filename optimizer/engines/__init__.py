"""Routing engines behind one interface; engine objects never leave their module."""

from optimizer.engines.base import Engine, Solution, Visit, get_engine

__all__ = ["Engine", "Solution", "Visit", "get_engine"]
