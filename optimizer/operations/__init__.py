"""What happened feeds the next plan: tracks and dosage, alerts, the participation ledger.

* :mod:`optimizer.operations.tracks` — the handhelds' GPX tracks and check-ins matched to the
  plan and the street graph: dosage at each hotspot and post, stops missed or late, distance,
  deviation from the planned route; the dosage deficit that makes under-served hotspots weigh
  more in the next day's plan.
* :mod:`optimizer.operations.alerts` — "watch for" alerts at a place and time span: the place's
  risk rises, the affected windows are re-planned, the groups and posts nearby are listed.
* :mod:`optimizer.operations.ledger` — the participation ledger: every planned and actual
  patrol and post duty per person, team and cell; hours per week, caps, rest days.
"""
