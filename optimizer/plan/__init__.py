"""Day plans: build the problems of grids x windows, solve them, assemble the plan.

Also re-planning during a window, day-to-day variation and the reasons a site is left out.
"""
