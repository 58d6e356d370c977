"""Names read from files or typed by users never write or read outside their folder.

Before the fix a grid ``name = "x/../../../../escaped"`` wrote ``escaped.json`` outside
``--reports`` (``day_folder / f"grid-{spec.name}.json"``). Every name that becomes a path goes
through :func:`workbench.model.names.check_name`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.research.events import EventPresetError, EventRepository
from workbench.research.grid import GridError, load_grid, run_grid
from workbench.research.templates import TemplateError, TemplateRepository

ESCAPE = "x/../../../../escaped"


def test_a_grid_name_that_climbs_out_is_refused_before_anything_is_written(
    tmp_path: Path, nifty_tiny: Path
) -> None:
    grid = tmp_path / "g.toml"
    grid.write_text(f'name = "{ESCAPE}"\ntemplate = "short-straddle"\ndata = "{nifty_tiny}"\n')
    with pytest.raises(GridError, match=r"g\.toml: invalid grid file: name: .*not a safe name"):
        load_grid(grid)
    # a spec changed in code (no validation on model_copy) is refused by run_grid itself
    ok = tmp_path / "ok.toml"
    ok.write_text(f'template = "short-straddle"\ndata = "{nifty_tiny}"\n')
    spec = load_grid(ok).model_copy(update={"name": ESCAPE})
    reports = tmp_path / "deep" / "er" / "reports"
    with pytest.raises(ValueError, match=r"grid name .*not a safe name"):
        run_grid(spec, reports_root=reports, progress=False)
    assert not list(tmp_path.rglob("escaped*")) and not reports.exists()


def test_a_grid_file_stem_is_checked_when_it_names_the_grid(tmp_path: Path) -> None:
    odd = tmp_path / ".hidden.toml"
    odd.write_text('template = "short-straddle"\ndata = "x"\n')
    with pytest.raises(GridError, match=r"\.hidden\.toml: grid name .*not a safe name"):
        load_grid(odd)


@pytest.mark.parametrize("name", ["../../etc/passwd", "..", ".secret", "a/b", ""])
def test_template_and_event_names_cannot_leave_their_folder(tmp_path: Path, name: str) -> None:
    (tmp_path / "secret.toml").write_text("x = 1\n")
    for folder in ("templates", "events"):
        (tmp_path / folder).mkdir()
    with pytest.raises(TemplateError, match="not a safe name"):
        TemplateRepository(tmp_path / "templates").get(name)
    with pytest.raises(EventPresetError, match="not a safe name"):
        EventRepository(tmp_path / "events").get(name)
