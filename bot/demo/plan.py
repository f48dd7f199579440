"""The demo's plan: the Dutch default plan with weeks 1-3 sharing focus skills, so that three
accelerated weeks can show recurring gaps (the default rotates all nine skills every 3 weeks)."""

from __future__ import annotations

from typing import Any

import yaml

from bot.plans import Plan, default_plan_text, load_plan

DEMO_WEEKS: dict[int, dict[str, Any]] = {
    2: {
        "expectations": (
            "Deze week oefen je met samenwerken en evalueren.\n\n"
            "Op je stage\n"
            "- Bereid samen met een collega een activiteit voor en verdeel de taken.\n"
            "- Vraag na afloop feedback: wat ging goed, wat kan beter?\n\n"
            "Lesstof om te oefenen\n"
            "- Hoofdstuk 'Reflecteren met STARR' uit de module Professionele ontwikkeling."
        ),
        "focus_skills": ["samenwerken", "behoeften", "evalueren"],
    },
    3: {
        "expectations": (
            "Deze week sta je stil bij veiligheid en bij je eigen werk.\n\n"
            "Op je stage\n"
            "- Loop met je werkbegeleider het veiligheidsprotocol van de groep door.\n"
            "- Evalueer elke dag één moment: wat deed je, wat werkte, wat doe je anders?\n\n"
            "Lesstof om te oefenen\n"
            "- De vier opvoedingsdoelen van Riksen-Walraven: emotionele veiligheid voorop."
        ),
        "focus_skills": ["samenwerken", "evalueren", "veilig-klimaat"],
    },
}


def demo_plan_text() -> str:
    data = yaml.safe_load(default_plan_text())
    data["name"] = "Demoplan (standaardplan, weken 1-3 aangepast)"
    for week, changes in DEMO_WEEKS.items():
        data["weeks"][week] = {**data["weeks"].get(week, {}), **changes}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def demo_plan() -> Plan:
    return load_plan(demo_plan_text(), source="demo plan")
