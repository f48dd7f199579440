"""Repositories: SQL in, dataclasses out. Each takes the caller's session (one per update)."""

from storage.repos.cohorts import CohortRepo
from storage.repos.invites import InviteRepo
from storage.repos.members import MemberRepo
from storage.repos.users import UserSettingsRepo

__all__ = ["CohortRepo", "InviteRepo", "MemberRepo", "UserSettingsRepo"]
