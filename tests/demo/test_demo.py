"""The demo runs the whole product offline and leaves its transcripts, chart and export."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from bot.demo.run import run_demo


async def test_demo_runs_three_weeks_and_leaves_its_files(tmp_path: Path) -> None:
    steps: list[str] = []
    result = await run_demo(tmp_path, weeks=3, step=steps.append)
    assert result.violations == []
    assert steps[-1].startswith("the mentor asks")
    student = (tmp_path / "transcript-student.md").read_text("utf-8")
    assert "Ga je akkoord?" in student and "Klaar, dank je wel" in student
    assert student.count("📋 Week") == 3  # three weeks of expectations
    team = (tmp_path / "transcript-mentorteam.md").read_text("utf-8")
    assert "⚠️ Signaal: Anna de Vries" in team  # her recurring gap on samenwerken
    assert "Signaal voor de klas" in team  # evalueren, low across the class
    assert "Weekoverzicht" in team and "✓ Gezien door Saskia" in team
    # one learning agreement through its whole life (issue 12): made from Anna's alert in
    # week 2 (her 2nd ask: one bad week is no signal), told to her, asked about in week 3's
    # reflection, her answer in the digest
    assert "✍️ Leerafspraak met Anna de Vries" in team
    assert "✓ Leerafspraak verstuurd aan Anna de Vries" in team
    assert "🤝 Afspraak met je mentorteam: „Anna vraagt deze week" in student
    assert "We vragen in week 3 hoe het ging" in student
    assert "Hoe ging het?" in student and "(tikt op [Deels])" in student
    assert "Leerafspraken, zo ging het:" in team
    assert "• Anna de Vries — „Anna vraagt deze week" in team
    assert "”: student: deels · werkplek: gelukt" in team  # both views (a workplace skill)
    assert "📋 Klassenbespreking PW3A demo" in team
    assert (tmp_path / "grafiek.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "grafiek-beide-blikken.png").read_bytes().startswith(b"\x89PNG")
    workplace = (tmp_path / "transcript-werkbegeleider.md").read_text("utf-8")
    assert "Anna de Vries van PW3A demo vraagt je om werkbegeleider te zijn" in workplace
    assert workplace.count("Alles van week") == 3  # three weeks observed, Anna and Bram each
    assert "Week 2 · Anna de Vries · vaardigheid 1 van" in workplace
    # the shared agreement's follow-up in week 3's observation
    assert "De afspraak met Anna: „Anna vraagt deze week" in workplace
    assert "Hoe ging het deze week?" in workplace and "(tikt op [Gelukt])" in workplace
    assert "Bram" in workplace and "Chaima" not in workplace  # only her own students
    assert "Ik las voor" not in workplace and "/5" not in workplace  # no self-ratings
    rows = list(csv.DictReader(io.StringIO((tmp_path / "export.csv").read_text("utf-8"))))
    assert {row["week"] for row in rows} == {"1", "2", "3"}  # the mentor's language: Dutch
    assert {row["bron"] for row in rows} == {"student", "werkbegeleider"}
    assert not any(
        row["student"] in ("Daan Bakker", "Hanna Mulder") for row in rows if row["score"]
    )
