"""Outputs people and devices read: GeoJSON, GPX, CSV/XLSX, maps and the plan file."""
