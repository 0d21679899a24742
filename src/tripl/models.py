"""Imports every table so the metadata is complete (Alembic, schema checks, create_all)."""

from tripl.core.db import Base
from tripl.core.read_cache import PlanGeneration
from tripl.observe.data_sources.models import DataSource
from tripl.observe.metrics.models import (
    AppVersionPoint,
    BreakdownPoint,
    CoveragePoint,
    MetricPoint,
    MetricSeries,
    SeriesPoint,
)
from tripl.observe.reconciliation.models import ShadowEvent
from tripl.observe.scans.models import ScanConfig, ScanJob, ScanPreviewJob
from tripl.plan.branches.models import PlanBranch
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event, EventChange, EventFieldValue, EventMetaValue, EventTag
from tripl.plan.fields.models import FieldDefinition
from tripl.plan.meta_fields.models import MetaFieldDefinition
from tripl.plan.owners.models import EventTypeOwner
from tripl.plan.photos.models import EventPhoto, EventPhotoComment
from tripl.plan.projects.models import Project
from tripl.plan.relations.models import Relation
from tripl.plan.variables.models import Variable, VariableValueContext
from tripl.workspace.api_keys.models import ApiKey
from tripl.workspace.audit.models import AuditEntry
from tripl.workspace.settings.models import SettingOverride
from tripl.workspace.users.models import User, UserSession

__all__ = [
    "ApiKey",
    "AppVersionPoint",
    "AuditEntry",
    "Base",
    "BreakdownPoint",
    "CoveragePoint",
    "DataSource",
    "Event",
    "EventChange",
    "EventFieldValue",
    "EventMetaValue",
    "EventPhoto",
    "EventPhotoComment",
    "EventTag",
    "EventType",
    "EventTypeOwner",
    "FieldDefinition",
    "MetaFieldDefinition",
    "MetricPoint",
    "MetricSeries",
    "PlanBranch",
    "PlanGeneration",
    "Project",
    "Relation",
    "ScanConfig",
    "ScanJob",
    "ScanPreviewJob",
    "SeriesPoint",
    "SettingOverride",
    "ShadowEvent",
    "User",
    "UserSession",
    "Variable",
    "VariableValueContext",
]
