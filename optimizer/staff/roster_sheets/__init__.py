"""Rosters as the bureau keeps them: CSV / XLSX sheets in, ``resources.json`` out.

* :mod:`~optimizer.staff.roster_sheets.vocabulary` — the one place that says which sheets and
  columns exist, their Chinese and English headers and aliases, and the accepted values;
* :mod:`~optimizer.staff.roster_sheets.cells` — reading one cell: availability
  (``周一至周五 07:00-11:00``), travel modes, coordinates, phones, ID numbers ...;
* :mod:`~optimizer.staff.roster_sheets.read` — files to sheets (XLSX workbooks, CSV in UTF-8
  or GB18030), the header row and what each sheet holds;
* :mod:`~optimizer.staff.roster_sheets.build` — sheets to a validated roster, every bad row
  reported by file, sheet, row and field; storing it in a district atomically;
* :mod:`~optimizer.staff.roster_sheets.template` — the template workbook and the export of a
  roster to sheets.
"""
