"""Effectiveness backtest: do the plans put patrols where the next incidents happen?

Held-out days are replayed one by one against plans made only from the incidents before each
day, with the same patrol hours for every strategy (:mod:`.backtest`). The strategies
(:mod:`.strategies`): the service's plans, a fixed beat loop through each cell (how patrols run
today), random routes, greedy nearest hotspot, and the service with the forecast replaced by
uniform risk. Routes become presence on street segments (:mod:`.traces`) and are scored
(:mod:`.metrics`): the share of the incidents on or within 50 m of a segment patrolled in their
window (their day, where the data has dates only), risk-weighted presence minutes, and the
share of the street length within 3 and 5 minutes of a group at random moments.
"""
