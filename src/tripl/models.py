"""Imports every table so the metadata is complete (Alembic, schema checks, create_all)."""

from tripl.core.db import Base
from tripl.plan.branches.models import PlanBranch
from tripl.plan.projects.models import Project
from tripl.workspace.api_keys.models import ApiKey
from tripl.workspace.audit.models import AuditEntry
from tripl.workspace.settings.models import SettingOverride
from tripl.workspace.users.models import User, UserSession

__all__ = ["ApiKey", "AuditEntry", "Base", "PlanBranch", "Project", "SettingOverride", "User", "UserSession"]
