"""Plan rows written straight through the ORM, for tests that need data but test something else."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from tripl.core.context import TriplContext
from tripl.plan.branches.models import BranchKind, BranchStatus, PlanBranch
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event, EventFieldValue
from tripl.plan.fields.models import FieldDefinition, FieldType
from tripl.plan.meta_fields.models import MetaFieldDefinition, MetaFieldType
from tripl.plan.variables.models import ValueKind, Variable, VariableType, VariableValueContext


def main_branch_id(ctx: TriplContext, project_id: uuid.UUID | str) -> uuid.UUID:
    with ctx.db.sessions() as db:
        branch_id = db.scalar(
            select(PlanBranch.id).where(
                PlanBranch.project_id == uuid.UUID(str(project_id)), PlanBranch.kind == BranchKind.main
            )
        )
    assert branch_id is not None
    return branch_id


def make_event_type(
    ctx: TriplContext, project_id: uuid.UUID | str, name: str, fields: list[dict[str, Any]] | None = None
) -> tuple[EventType, list[FieldDefinition]]:
    """An event type on main with fields given as dicts (name, field_type, is_required, ...)."""
    pid = uuid.UUID(str(project_id))
    branch_id = main_branch_id(ctx, pid)
    with ctx.db.transaction() as db:
        event_type = EventType(project_id=pid, branch_id=branch_id, name=name, display_name=name)
        db.add(event_type)
        db.flush()
        defs = []
        for order, spec in enumerate(fields or []):
            spec = {"field_type": FieldType.string, **spec}
            field = FieldDefinition(
                event_type_id=event_type.id, order=order, display_name=spec["name"], **spec
            )
            db.add(field)
            defs.append(field)
    return event_type, defs


def make_event(
    ctx: TriplContext,
    event_type: EventType,
    name: str,
    values: dict[FieldDefinition, str] | None = None,
    **attrs: Any,
) -> Event:
    with ctx.db.transaction() as db:
        order = attrs.pop("order", None)
        if order is None:
            last = db.scalars(select(Event.order).where(Event.branch_id == event_type.branch_id)).all()
            order = max(last, default=-1) + 1
        event = Event(
            project_id=event_type.project_id,
            branch_id=event_type.branch_id,
            event_type_id=event_type.id,
            name=name,
            source_name=name,
            order=order,
            **attrs,
        )
        db.add(event)
        db.flush()
        for field, value in (values or {}).items():
            db.add(EventFieldValue(event_id=event.id, field_definition_id=field.id, value=value))
    return event


def make_meta_field(
    ctx: TriplContext,
    project_id: uuid.UUID | str,
    name: str,
    branch_id: uuid.UUID | None = None,
    **attrs: Any,
) -> MetaFieldDefinition:
    """A meta field on main (or the given branch); field_type defaults to string."""
    pid = uuid.UUID(str(project_id))
    with ctx.db.transaction() as db:
        meta = MetaFieldDefinition(
            project_id=pid,
            branch_id=branch_id or main_branch_id(ctx, pid),
            name=name,
            display_name=attrs.pop("display_name", name),
            field_type=attrs.pop("field_type", MetaFieldType.string),
            **attrs,
        )
        db.add(meta)
    return meta


def make_working_branch(ctx: TriplContext, project_id: uuid.UUID | str, name: str = "work") -> uuid.UUID:
    with ctx.db.transaction() as db:
        branch = PlanBranch(
            project_id=uuid.UUID(str(project_id)),
            name=name,
            kind=BranchKind.working,
            status=BranchStatus.draft,
        )
        db.add(branch)
        db.flush()
        return branch.id


def make_variable_context(
    ctx: TriplContext,
    event_id: uuid.UUID | str,
    field: FieldDefinition,
    variable_name: str,
    values: list[str],
) -> VariableValueContext:
    """A variable on the field's branch plus the values a scan observed for it in one event's field."""
    with ctx.db.transaction() as db:
        event = db.get(Event, uuid.UUID(str(event_id)))
        assert event is not None
        variable = Variable(
            project_id=event.project_id,
            branch_id=event.branch_id,
            name=variable_name,
            variable_type=VariableType.string,
        )
        db.add(variable)
        db.flush()
        context = VariableValueContext(
            variable_id=variable.id,
            event_id=event.id,
            field_definition_id=field.id,
            source_column=variable_name,
            value_kind=ValueKind.low,
            observed_count=len(values),
            values=values,
        )
        db.add(context)
    return context
