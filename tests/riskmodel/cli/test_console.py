"""What the terminal shows: the work list at 80 columns, never split mid-field (SPEC 6)."""

from __future__ import annotations

import io
import re

import pytest
from rich.cells import cell_len

from riskmodel.cli import console as console_module
from riskmodel.cli.console import print_worklist, wrap_cells
from riskmodel.worklist.entries import build_worklist
from tests.factories import make_residents
from tests.riskmodel.worklist.test_worklist import SNAPSHOT_TEAM


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("血压 194/108 mmHg（2026-06-28），达到诊断标准，尚未确诊：请于 2026-07-12 前复测血压 [高血压指南 2018]", 30),
        ("hypertension, confirm diagnosis: BP 140/63 mmHg (2026-06-25) in the diagnostic range", 24),
    ],
)
def test_wrap_never_splits_a_number_date_or_word(text, width):
    lines = wrap_cells(text, width, 0)
    assert all(cell_len(line) <= width for line in lines)
    for field in re.findall(r"[\x21-\x7e]+", text):
        assert any(field in line for line in lines), field
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_printed_list_fits_80_columns(model, lang, monkeypatch):
    buffer = io.StringIO()
    from rich.console import Console

    # Swap the module's console object (not its file: restoring a captured stream would outlive the test).
    monkeypatch.setattr(console_module, "console", Console(file=buffer, width=120))
    worklist = build_worklist(make_residents(SNAPSHOT_TEAM), model, as_of="2026-07-01", lang=lang)
    print_worklist(worklist, "team-a", {"worklist_as_of": "2026-07-01", "model_version": "3"}, lang, width=80)
    printed = buffer.getvalue().splitlines()
    assert printed and all(cell_len(line) <= 80 for line in printed), max(printed, key=cell_len)
    dates = {d for entry in worklist.entries for r in entry["reasons"] for d in re.findall(r"\d{4}-\d{2}-\d{2}", r)}
    shown = set(re.findall(r"\d{4}-\d{2}-\d{2}", "\n".join(printed)))
    assert dates <= shown
    if lang == "zh":
        assert "确诊与转诊" in "\n".join(printed) and "refer_now" not in "\n".join(printed)
