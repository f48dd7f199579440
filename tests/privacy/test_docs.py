"""docs/privacy.md stays in step with the code: every table, the settings and their defaults."""

from __future__ import annotations

from pathlib import Path

from bot.runtime.config import Settings
from storage.models import Base

DOC = (Path(__file__).resolve().parents[2] / "docs" / "privacy.md").read_text(encoding="utf-8")


def test_every_table_is_described() -> None:
    missing = [name for name in Base.metadata.tables if f"`{name}`" not in DOC]
    assert missing == [], f"docs/privacy.md does not describe: {missing}"


def test_settings_and_defaults_match_the_code() -> None:
    fields = Settings.model_fields
    assert fields["retention_days"].alias == "MENTORBOT_RETENTION_DAYS"
    assert f"standaard **{fields['retention_days'].default} dagen**" in DOC
    assert fields["delete_on_stop"].alias == "MENTORBOT_DELETE_ON_STOP"
    assert fields["delete_on_stop"].default is False
    assert "`MENTORBOT_DELETE_ON_STOP=false` (standaard)" in DOC
    for command in ("/mijngegevens", "/stop", "mijngegevens.json"):
        assert command in DOC


def test_the_werkbegeleiders_answers_on_agreements_are_described() -> None:
    """Kept on the agreement, read by three people: the doc names where each of them finds it."""
    from storage.models import Agreement

    kept = [c.name for c in Agreement.__table__.columns if c.name.startswith("workplace_")]
    assert kept, "the agreements table keeps the werkbegeleider's answer"
    section = DOC[DOC.index("### Het antwoord van de werkbegeleider op een leerafspraak") :]
    for where in (
        "agreement_answers",
        "workplace_outcome",
        "workplace_words",
        "/export",
        "/student",
        "Hoe lang",
        "Wie ziet het",
        "MENTORBOT_DELETE_ON_STOP=true",
    ):
        assert where in section, where
