from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tripl.core.errors import Conflict, NotFound, Unprocessable
from tripl.plan.branches.models import PlanBranch
from tripl.plan.events.models import Event, EventChange, EventFieldValue, EventMetaValue
from tripl.plan.fields.models import FieldDefinition
from tripl.plan.meta_fields.models import MetaFieldDefinition
from tripl.plan.projects.models import Project
from tripl.plan.variables.models import Variable, VariableType, VariableValueContext
from tripl.plan.variables.schemas import (
    VARIABLE_NAME_PATTERN,
    VariableResponse,
    VariableValueContextResponse,
)
from tripl.plan.variables.usage import placeholder, usage
from tripl.workspace.audit import service as audit
from tripl.workspace.users.models import User


def list_variables(db: Session, branch: PlanBranch) -> list[Variable]:
    return list(
        db.scalars(
            select(Variable).where(Variable.branch_id == branch.id).order_by(Variable.name, Variable.id)
        )
    )


def get_variable(db: Session, branch: PlanBranch, variable_id: uuid.UUID) -> Variable:
    variable = db.scalar(select(Variable).where(Variable.id == variable_id, Variable.branch_id == branch.id))
    if variable is None:
        raise NotFound("Variable not found")
    return variable


def _ensure_name_free(db: Session, branch: PlanBranch, name: str, except_id: uuid.UUID | None = None) -> None:
    query = select(Variable.id).where(Variable.branch_id == branch.id, Variable.name == name)
    if except_id is not None:
        query = query.where(Variable.id != except_id)
    if db.scalar(query) is not None:
        raise Conflict(f"Variable '{name}' already exists")


def _flush(db: Session, name: str) -> None:
    try:
        db.flush()
    except IntegrityError:  # a concurrent request took the name between our check and the insert
        raise Conflict(f"Variable '{name}' already exists") from None


def _audit(
    db: Session, actor: User, action: str, project: Project, variable: Variable, payload: dict[str, Any]
) -> None:
    audit.record(
        db,
        actor,
        action,
        target_type="variable",
        target_id=variable.id,
        target_name=variable.name,
        project_id=project.id,
        project_slug=project.slug,
        payload={"branch_id": variable.branch_id, **payload},
    )


def create_variable(
    db: Session,
    actor: User,
    project: Project,
    branch: PlanBranch,
    *,
    name: str,
    variable_type: VariableType,
    description: str,
) -> Variable:
    _ensure_name_free(db, branch, name)
    variable = Variable(
        project_id=project.id,
        branch_id=branch.id,
        name=name,
        variable_type=variable_type,
        description=description,
    )
    db.add(variable)
    _flush(db, name)
    _audit(db, actor, "variable.create", project, variable, {"name": name, "variable_type": variable_type})
    return variable


def update_variable(
    db: Session,
    actor: User,
    project: Project,
    branch: PlanBranch,
    variable: Variable,
    changes: dict[str, Any],
) -> Variable:
    if changes.get("description", "") is None:
        changes["description"] = ""
    old_name = variable.name
    new_name = changes.get("name", old_name)
    rewritten: dict[str, int] = {}
    if new_name != old_name:
        if not re.fullmatch(VARIABLE_NAME_PATTERN, new_name):
            raise Unprocessable(f"String should match pattern '{VARIABLE_NAME_PATTERN}'", field="name")
        _ensure_name_free(db, branch, new_name, variable.id)
        rewritten = _rewrite_placeholders(db, actor, branch, old_name, new_name)
    for key, value in changes.items():
        setattr(variable, key, value)
    _flush(db, new_name)
    payload: dict[str, Any] = {"changes": changes}
    if new_name != old_name:
        payload.update(old_name=old_name, **rewritten)
    _audit(db, actor, "variable.update", project, variable, payload)
    return variable


def _rewrite_placeholders(db: Session, actor: User, branch: PlanBranch, old: str, new: str) -> dict[str, int]:
    """Rewrite `${old}` to `${new}` in the branch's field and meta values, with event history rows.

    Matching the whole placeholder, closing brace included, leaves `${old_suffix}` alone.
    """
    old_ph, new_ph = placeholder(old), placeholder(new)
    field_rows = db.execute(
        select(EventFieldValue.id, EventFieldValue.event_id, EventFieldValue.value, FieldDefinition.name)
        .join(Event, Event.id == EventFieldValue.event_id)
        .join(FieldDefinition, FieldDefinition.id == EventFieldValue.field_definition_id)
        .where(Event.branch_id == branch.id, EventFieldValue.value.contains(old_ph, autoescape=True))
    ).all()
    meta_rows = db.execute(
        select(EventMetaValue.id, EventMetaValue.event_id, EventMetaValue.value, MetaFieldDefinition.name)
        .join(Event, Event.id == EventMetaValue.event_id)
        .join(MetaFieldDefinition, MetaFieldDefinition.id == EventMetaValue.meta_field_definition_id)
        .where(Event.branch_id == branch.id, EventMetaValue.value.contains(old_ph, autoescape=True))
    ).all()
    history: list[EventChange] = []
    for model, rows, prefix in ((EventFieldValue, field_rows, "field"), (EventMetaValue, meta_rows, "meta")):
        if not rows:
            continue
        params = [{"id": row_id, "value": value.replace(old_ph, new_ph)} for row_id, _, value, _ in rows]
        db.execute(update(model), params)
        history.extend(
            EventChange(
                event_id=event_id,
                user_id=actor.id,
                user_email=actor.email,
                field=f"{prefix}:{field_name}",
                old_value=value,
                new_value=value.replace(old_ph, new_ph),
            )
            for _, event_id, value, field_name in rows
        )
    db.add_all(history)
    events = {row[1] for row in field_rows} | {row[1] for row in meta_rows}
    return {
        "rewritten_field_values": len(field_rows),
        "rewritten_meta_values": len(meta_rows),
        "rewritten_events": len(events),
    }


def delete_variable(db: Session, actor: User, project: Project, variable: Variable) -> None:
    """Remove the variable and its contexts; event values keep their `${name}` text as written."""
    _audit(db, actor, "variable.delete", project, variable, {"name": variable.name})
    db.execute(delete(VariableValueContext).where(VariableValueContext.variable_id == variable.id))
    db.execute(delete(Variable).where(Variable.id == variable.id))


def list_value_contexts(db: Session, variable: Variable) -> list[VariableValueContextResponse]:
    rows = db.execute(
        select(VariableValueContext, Event.name, FieldDefinition.name, FieldDefinition.display_name)
        .join(Event, Event.id == VariableValueContext.event_id)
        .join(FieldDefinition, FieldDefinition.id == VariableValueContext.field_definition_id)
        .where(VariableValueContext.variable_id == variable.id)
        .order_by(Event.name, FieldDefinition.order, FieldDefinition.name, VariableValueContext.id)
    ).all()
    return [
        VariableValueContextResponse(
            id=ctx.id,
            variable_id=variable.id,
            variable_name=variable.name,
            event_id=ctx.event_id,
            event_name=event_name,
            field_definition_id=ctx.field_definition_id,
            field_name=field_name,
            field_display_name=display_name or field_name,
            source_column=ctx.source_column,
            value_kind=ctx.value_kind,
            observed_count=ctx.observed_count,
            values=[v if isinstance(v, str) else str(v) for v in ctx.values or []],
            updated_at=ctx.updated_at,
        )
        for ctx, event_name, field_name, display_name in rows
    ]


def to_response(db: Session, branch: PlanBranch, variables: list[Variable]) -> list[VariableResponse]:
    figures = usage(db, branch.id, variables)
    return [
        VariableResponse(
            id=v.id,
            project_id=v.project_id,
            name=v.name,
            source_name=v.source_name,
            variable_type=v.variable_type,
            description=v.description,
            event_count=figures[v.id].event_count,
            context_count=figures[v.id].context_count,
            low_context_count=figures[v.id].low_context_count,
            high_context_count=figures[v.id].high_context_count,
            sample_values=figures[v.id].sample_values,
        )
        for v in variables
    ]
