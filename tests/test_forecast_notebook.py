"""The hotspot forecast notebook runs top to bottom on the demo (executed with nbclient)."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "hotspot_forecast.ipynb"


@pytest.mark.slow
def test_hotspot_forecast_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path / "districts"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts.append(str(out.get("text", "")))
            texts.extend(str(v) for k, v in out.get("data", {}).items() if k.startswith("text/"))
    text = "\n".join(texts)
    assert "method:" in text and "pai@5%" in text  # the forecaster's summary
    assert "overlap" in text and "19:00-23:00" in text
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 3  # incidents per week, importance, hotspots per window
