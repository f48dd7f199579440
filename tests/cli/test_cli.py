"""The `mentorbot` command as a coordinator uses it (in-process, real SQLite file)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from storage.db import Database
from storage.repos.inbox import InboxRepo, Incoming

CODE = re.compile(r"([A-Za-z0-9_-]{22,64})$")


@pytest.fixture
def cli(clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def test_migrate_creates_the_schema(cli, tmp_path: Path) -> None:
    result = cli("migrate")
    assert "revision" in result.output
    assert (tmp_path / "cli.db").exists()


def test_create_and_list_cohorts(cli) -> None:
    cli("cohort", "create", "PW3A", "--start", "2026-09-01", "--reflection", "thu 15:30")
    listing = cli("cohort", "list").output
    assert "PW3A" in listing and "thu 15:30" in listing and "2026-09-01" in listing


def test_duplicate_cohort_and_bad_time_are_refused_clearly(cli) -> None:
    cli("cohort", "create", "PW3A")
    again = cli("cohort", "create", "PW3A", ok=False)
    assert again.exit_code == 2 and "exists already" in again.output
    bad = cli("cohort", "create", "PW3B", "--reflection", "someday 14:00", ok=False)
    assert bad.exit_code == 2 and "unknown day" in bad.output
    assert "Traceback" not in bad.output


def test_students_import_gives_one_personal_code_each(cli, tmp_path: Path) -> None:
    cli("cohort", "create", "PW3A")
    roster = tmp_path / "klas.csv"
    roster.write_text("naam;organisatie\nAnna de Vries;KDV Zon\nBram Şahin;BSO Noord\n", "utf-8")
    result = cli("students", "import", "PW3A", str(roster))
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 2
    assert lines[0].startswith("Anna de Vries") and "KDV Zon" in lines[0]
    codes = {CODE.search(line).group(1) for line in lines}  # type: ignore[union-attr]
    assert len(codes) == 2


def test_bad_roster_is_refused_whole_with_line_numbers(cli, tmp_path: Path) -> None:
    cli("cohort", "create", "PW3A")
    roster = tmp_path / "klas.csv"
    roster.write_text("name,organisation\nAnna,KDV\n,KDV\nBram,BSO\nanna,X\na,b,c\n", "utf-8")
    result = cli("students", "import", "PW3A", str(roster), ok=False)
    assert result.exit_code == 2
    assert "line 3: the name is empty" in result.output
    assert "line 5: 'anna' appears twice (also on line 2)" in result.output
    assert "line 6: 3 columns" in result.output
    # nothing half-imported: the good lines are not there either
    fixed = tmp_path / "ok.csv"
    fixed.write_text("name\nAnna\nBram\n", "utf-8")
    assert len(cli("students", "import", "PW3A", str(fixed)).stdout.splitlines()) == 2


def test_roster_that_is_not_utf8_is_refused(cli, tmp_path: Path) -> None:
    cli("cohort", "create", "PW3A")
    roster = tmp_path / "klas.csv"
    roster.write_bytes("name\nRené\n".encode("latin-1"))
    result = cli("students", "import", "PW3A", str(roster), ok=False)
    assert "not UTF-8" in result.output


def test_invites_end_in_the_code_and_show_links_when_username_known(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("cohort", "create", "PW3A")
    plain = cli("invite", "PW3A", "--role", "mentor", "--count", "2").stdout.splitlines()
    assert len(plain) == 2 and all(CODE.search(line) for line in plain)
    monkeypatch.setenv("MENTORBOT_BOT_USERNAME", "mentor_test_bot")
    linked = cli("invite", "PW3A", "--role", "student").stdout.strip()
    code = CODE.search(linked).group(1)  # type: ignore[union-attr]
    assert f"https://t.me/mentor_test_bot?start={code}" in linked


def test_invite_sheet_is_a_pdf(cli, tmp_path: Path) -> None:
    cli("cohort", "create", "PW3A")
    roster = tmp_path / "klas.csv"
    roster.write_text("name\nAnna\nBram\n", "utf-8")
    cli("students", "import", "PW3A", str(roster))
    sheet = tmp_path / "sheet.pdf"
    result = cli("invite", "PW3A", "--pending", "--sheet", str(sheet))
    assert len(result.stdout.splitlines()) == 2
    assert sheet.read_bytes().startswith(b"%PDF")


def test_unknown_cohort_and_role(cli) -> None:
    result = cli("invite", "nope", ok=False)
    assert result.exit_code == 2 and "no cohort named 'nope'" in result.output
    cli("cohort", "create", "PW3A")
    assert "--role must be" in cli("invite", "PW3A", "--role", "boss", ok=False).output


def test_bad_setting_gives_one_line(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTORBOT_SEND_RATE", "fast")
    result = cli("cohort", "list", ok=False)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: MENTORBOT_SEND_RATE: Input should be a valid number, unable to parse string as a "
        "number"
    ]


def test_run_without_token_says_so(cli) -> None:
    result = cli("run", ok=False)
    assert result.exit_code == 2 and "TELEGRAM_BOT_TOKEN is not set" in result.output


def test_plan_show_default_and_load_refuses_bad_plan_keeping_the_old(cli, tmp_path: Path) -> None:
    cli("cohort", "create", "PW3A")
    shown = cli("plan", "show", "PW3A", "--week", "2").stdout
    assert "week 2" in shown and "Focus:" in shown and "[rating]" in shown
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Eigen plan\nskills: []\ndefault_week:\n  expectations: x\n", "utf-8")
    refused = cli("plan", "load", "PW3A", str(bad), ok=False)
    assert refused.exit_code == 2 and "plan refused" in refused.output
    assert f"{bad}:" in refused.output  # every error names the file and line
    assert shown == cli("plan", "show", "PW3A", "--week", "2").stdout  # old plan in force


def test_plan_load_takes_a_valid_plan(cli, tmp_path: Path) -> None:
    from bot.plans import default_plan_text

    cli("cohort", "create", "PW3A")
    own = tmp_path / "own.yaml"
    own.write_text(default_plan_text().replace("name:", "name: Eigen", 1), "utf-8")
    assert "plan version 1" in cli("plan", "load", "PW3A", str(own)).stdout


def test_plan_list_shows_the_shipped_plans_in_both_languages(cli) -> None:
    listed = cli("plan", "list").stdout
    for name in ("standaard", "niveau4", "bso", "eerste-jaar"):
        assert name in listed
    assert "Plan buitenschoolse opvang" in listed and "nl, en" in listed


def test_cohort_create_picks_a_shipped_plan_by_name_or_a_file(cli, tmp_path: Path) -> None:
    from bot.plans import shipped_plan_text

    cli("cohort", "create", "PW4A", "--plan", "niveau4")
    assert "Week 3: VE op de groep." in cli("plan", "show", "PW4A", "--week", "3").stdout
    cli("cohort", "create", "BSO1", "--plan", "bso")
    assert "Week 5: huiswerk en leren." in cli("plan", "show", "BSO1", "--week", "5").stdout
    own = tmp_path / "eigen.yaml"
    own.write_text(shipped_plan_text("eerste-jaar").replace("name:", "name: Eigen", 1), "utf-8")
    cli("cohort", "create", "PW1A", "--plan", str(own))
    assert "Eigen Plan eerste jaar" in cli("plan", "show", "PW1A", "--week", "2").stdout
    refused = cli("cohort", "create", "PW1B", "--plan", "niveau5", ok=False)
    assert refused.exit_code == 2 and "no shipped plan named 'niveau5'" in refused.output
    assert "standaard, niveau4, bso, eerste-jaar" in refused.output
    assert "PW1B" not in cli("cohort", "list").stdout


def test_export_of_a_new_cohort_is_a_header_only_csv(cli, tmp_path: Path) -> None:
    cli("cohort", "create", "PW3A")
    printed = cli("export", "PW3A").stdout.splitlines()
    assert printed[0].startswith("week,student,vraag")  # the team's language (Dutch)
    assert len(printed) == 1
    target = tmp_path / "out.csv"
    cli("export", "PW3A", "--out", str(target))
    assert target.read_text("utf-8").splitlines() == printed
    english = cli("export", "PW3A", "--lang", "en").stdout.splitlines()
    assert english == ["week,student,question,skill,rating,choice,text,answered at,source"]
    assert "no cohort named" in cli("export", "PW3B", ok=False).output
    refused = cli("export", "PW3A", "--lang", "de", ok=False)
    assert refused.exit_code == 2 and "--lang must be one of nl, en" in refused.output


def test_plan_show_in_the_team_language_or_lang(cli) -> None:
    cli("cohort", "create", "PW3A")
    dutch = cli("plan", "show", "PW3A", "--week", "2").stdout
    english = cli("plan", "show", "PW3A", "--week", "2", "--lang", "en").stdout
    assert "(optioneel)" in dutch and "(optional)" in english
    questions = [
        [line for line in shown.splitlines() if re.match(r"\d+\. \[", line)]
        for shown in (dutch, english)
    ]
    assert len(questions[0]) == len(questions[1]) > 3  # the same week's questions
    assert all(nl != en for nl, en in zip(*questions, strict=True))  # in the plan's English
    assert "Period 1, orientation — week 2" in english and "Periode 1" not in english
    assert "[rating]" in english  # question kinds are the plan's own keys
    refused = cli("plan", "show", "PW3A", "--lang", "fr", ok=False)
    assert refused.exit_code == 2 and "--lang must be one of nl, en" in refused.output


def test_inbox_shows_parked_updates_without_their_content_and_retries_one(
    cli, tmp_path: Path
) -> None:
    cli("migrate")
    now = datetime.now(UTC)

    async def park() -> None:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        try:
            payload = {"update_id": 77, "message": {"text": "Mijn geheim"}}
            async with db.transaction() as s:
                await InboxRepo(s).store([Incoming(77, 5, payload)], now)
            for _ in range(3):
                async with db.transaction() as s:
                    (row,) = await InboxRepo(s).claim("gone", now, 1)
                    await InboxRepo(s).mark_failed(row.id, "gone", "BadRequest", now, 3)
        finally:
            await db.dispose()

    asyncio.run(park())
    shown = cli("inbox").output
    assert "parked 1" in shown and "instances running: 0" in shown
    assert "parked update 77 (message)" in shown and "3 tries, last error: BadRequest" in shown
    assert "geheim" not in shown  # what a student wrote stays out of the operator's terminal
    assert "will be handled again" in cli("inbox", "--retry", "77").output
    assert "pending 1" in cli("inbox").output and "parked 0" in cli("inbox").output
    again = cli("inbox", "--retry", "77", ok=False)
    assert again.exit_code == 2 and "not parked" in again.output
