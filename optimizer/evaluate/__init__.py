"""Evaluation: backtests of the forecast and of the plans, and their metrics."""
