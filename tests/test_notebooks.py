"""The analyst notebooks run top to bottom without errors (executed with nbclient)."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _outputs_text(nb: object) -> str:
    parts: list[str] = []
    for cell in nb.cells:  # type: ignore[attr-defined]
        for out in cell.get("outputs", []):
            parts.append(str(out.get("text", "")))
            parts.extend(str(v) for k, v in out.get("data", {}).items() if k.startswith("text/"))
    return "\n".join(parts)


@pytest.mark.slow
def test_demo_plan_notebook_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_dir: Path
) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # A private districts folder holding the session's demo (built once, never half-written).
    (tmp_path / "districts").mkdir()
    (tmp_path / "districts" / "demo").symlink_to(demo_dir, target_is_directory=True)
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path / "districts"))
    nb = nbformat.read(NOTEBOOKS / "demo_plan.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    text = _outputs_text(nb)
    assert "street nodes" in text
    assert "19:00-23:00" in text
    assert "routes.geojson" in text
    assert "officers_on_shift" in text
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 3  # one map per default window


@pytest.mark.slow
def test_effectiveness_notebook_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_dir: Path
) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    (tmp_path / "districts").mkdir()
    (tmp_path / "districts" / "demo").symlink_to(demo_dir, target_is_directory=True)
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path / "districts"))
    nb = nbformat.read(NOTEBOOKS / "effectiveness.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    text = _outputs_text(nb)
    for name in ("service", "beat_loop", "random", "greedy_hotspot", "service_uniform"):
        assert name in text
    assert "share_vs_beat_loop" in text and "reach@5min" in text
    assert all(ranking in text for ranking in ("forecast", "counts", "hindsight"))  # the bounds
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 3  # share with intervals; presence and reach; one day's map
