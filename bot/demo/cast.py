"""The simulated class: 25 students with recognisable patterns, and what each one answers."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

WEAK = "samenwerken"  # the featured student's recurring gap
CLASS_WEAK = "evalueren"  # low across the class

NAMES = [
    "Anna de Vries", "Bram Jansen", "Chaima El Amrani", "Daan Bakker", "Emma Visser",
    "Fatima Yilmaz", "Gijs de Boer", "Hanna Mulder", "Ilse Smit", "Jayden Meijer",
    "Kim van Dijk", "Lotte Bos", "Mohamed Haddou", "Noor Vos", "Oscar Peters",
    "Priya Ramdin", "Quinten Hendriks", "Romy van Leeuwen", "Sem Dekker", "Tess Brouwer",
    "Umut Kaya", "Vera de Wit", "Wessel Dijkstra", "Yara Smits", "Zoë de Graaf",
]  # fmt: skip

STARR = [
    "S: bij het fruitmoment wilde een peuter niet aan tafel. T: ik moest de groep rustig houden. "
    "A: ik gaf haar een taakje (bekers uitdelen). R: ze ging meedoen. "
    "R: een taak geven werkt beter dan aandringen.",
    "S: twee kinderen hadden ruzie om een fiets. T: ik begeleidde het buitenspelen. A: ik liet ze "
    "allebei vertellen wat er gebeurde en zocht samen een oplossing. R: ze spraken een beurt af. "
    "R: volgende keer stel ik eerder een zandloper voor.",
    "S: ik deed een voorleesactiviteit met vier kleuters. T: de activiteit voorbereiden en leiden. "
    "A: ik koos een prentenboek over verdriet. R: de kinderen vertelden over hun huisdier. "
    "R: ik wil meer open vragen stellen.",
    "S: een ouder vroeg bij het ophalen hoe de dag was gegaan. T: een korte overdracht geven. "
    "A: ik vertelde twee concrete dingen die goed gingen. R: de ouder was blij. "
    "R: ik schrijf voortaan eerst kort op wat ik wil vertellen.",
]


@dataclass
class Student:
    name: str
    pattern: str  # steady | weak | improving | silent | halfway | asks
    weak_skill: str | None = None
    base: float = 3.6
    rng: random.Random = field(default_factory=random.Random)
    # the workplace's own chance (not `rng`: the students' answers stay as they were)
    workplace_rng: random.Random = field(default_factory=random.Random)

    def rating(self, skill: str, week: int) -> int:
        level = self.base
        if self.pattern == "improving":
            level = 2.0 + 0.9 * (week - 1)
        if skill == self.weak_skill:
            level = 1.6
        elif skill == CLASS_WEAK:
            level = min(level, 2.4)
        noisy = level + self.rng.gauss(0, 0.5)
        return max(1, min(5, round(noisy)))

    def wants_help_with(self, skills: list[str]) -> str | None:
        if self.weak_skill in skills:
            return self.weak_skill
        return CLASS_WEAK if CLASS_WEAK in skills and self.rng.random() < 0.3 else None

    def observed(self, skill: str, week: int) -> str:
        """What the werkbegeleider taps: the same latent level on the four-point scale, with
        its own noise, and now and then a week in which the skill was not seen."""
        if self.workplace_rng.random() < 0.12:
            return "Niet gezien"
        level = self.base if self.pattern != "improving" else 2.0 + 0.9 * (week - 1)
        if skill == self.weak_skill:
            level = 1.6
        elif skill == CLASS_WEAK:
            level = min(level, 2.4)
        noisy = level + self.workplace_rng.gauss(0, 0.4)
        for label, below in (("Nooit", 1.4), ("Oefenen", 2.6), ("Voldoende", 3.9)):
            if noisy < below:
                return label
        return "Goed"

    def answers_reflection(self, week: int) -> bool:
        return self.pattern != "silent"

    def starr(self) -> str:
        return self.rng.choice(STARR)


def cast(seed: int = 7, size: int = 25) -> list[Student]:
    """The class: Anna (featured) weak on samenwerken; a few other recurring gaps; two improving;
    two silent; one who stops halfway; one who asks a question; the rest steady."""
    rng = random.Random(seed)
    patterns: list[tuple[str, str | None]] = [
        ("weak", WEAK), ("weak", "veilig-klimaat"), ("improving", None), ("silent", None),
        ("halfway", None), ("asks", None), ("improving", None), ("silent", None),
    ]  # fmt: skip
    students = []
    for index, name in enumerate(NAMES[:size]):
        pattern, weak = patterns[index] if index < len(patterns) else ("steady", None)
        students.append(
            Student(
                name,
                pattern,
                weak,
                base=3.3 + rng.random(),
                rng=random.Random(seed + index),
                workplace_rng=random.Random(1000 * seed + index),
            )
        )
    return students


# The werkbegeleiders at the placements: (first name, last name, indices of their students).
# Marloes supervises Anna (featured) and Bram: her chat is the demo's werkbegeleider transcript.
WERKBEGELEIDERS = [
    ("Marloes", "Bakker", (0, 1)),
    ("Kees", "Smit", (2, 5)),
    ("Ayse", "Demir", (8, 9, 10)),
]
