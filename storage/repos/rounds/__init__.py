"""Rounds, the students' progress through them, their answers and the question prompts:
`round` (rounds, participations, a student's history), `answer` (one upsert per answer),
`prompt` (the token on a button and a tap's first read, one statement)."""

from storage.repos.rounds.answer import AnswerRepo
from storage.repos.rounds.prompt import Opened, PromptRepo, Tap
from storage.repos.rounds.round import RoundRepo, student_history

__all__ = ["AnswerRepo", "Opened", "PromptRepo", "RoundRepo", "Tap", "student_history"]
