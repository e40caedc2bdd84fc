"""Outputs people and devices read, one module per concern.

``folder`` writes a whole plan folder from these: ``schedule`` (CSV, printable XLSX),
``summary`` (per level-1 / level-2 cell, ``plan.json``), ``geojson``, ``gpx``, ``maps`` (PNG per
window and area), ``html_map`` (offline interactive map). Shared rules: ``times`` (the district's
time zone on every time), ``cells`` (window → level-1 → level-2 → level-3 order), ``style``
(group and cell colours), ``basemap`` (the district's streets). ``plan_io`` is the plan file.
"""
