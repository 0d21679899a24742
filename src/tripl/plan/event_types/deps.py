"""The event type named by `{event_type_id}`, on the route's project and branch."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from tripl.core.deps import DbSession
from tripl.plan.event_types import service
from tripl.plan.event_types.models import EventType
from tripl.plan.projects.deps import BranchDep, ProjectDep


def get_event_type(
    event_type_id: uuid.UUID, project: ProjectDep, branch: BranchDep, db: DbSession
) -> EventType:
    return service.get_event_type(db, project, branch, event_type_id)


EventTypeDep = Annotated[EventType, Depends(get_event_type)]
