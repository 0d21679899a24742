from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tripl.core.errors import Conflict, NotFound, Unprocessable
from tripl.plan.branches.models import PlanBranch
from tripl.plan.fields.rules import RuleError, normalize_enum_options
from tripl.plan.meta_fields.models import MetaFieldDefinition
from tripl.plan.meta_fields.schemas import MetaFieldCreate, MetaFieldUpdate, check_default
from tripl.plan.projects.models import Project
from tripl.workspace.audit import service as audit
from tripl.workspace.users.models import User


def list_meta_fields(db: Session, branch: PlanBranch) -> list[MetaFieldDefinition]:
    return list(
        db.scalars(
            select(MetaFieldDefinition)
            .where(MetaFieldDefinition.branch_id == branch.id)
            .order_by(MetaFieldDefinition.order, MetaFieldDefinition.name, MetaFieldDefinition.id)
        )
    )


def get_meta_field(
    db: Session, project: Project, branch: PlanBranch, meta_field_id: uuid.UUID
) -> MetaFieldDefinition:
    meta_field = db.scalar(
        select(MetaFieldDefinition).where(
            MetaFieldDefinition.id == meta_field_id,
            MetaFieldDefinition.project_id == project.id,
            MetaFieldDefinition.branch_id == branch.id,
        )
    )
    if meta_field is None:
        raise NotFound("Meta field not found")
    return meta_field


def _audit(
    db: Session,
    actor: User,
    action: str,
    project: Project,
    meta_field: MetaFieldDefinition,
    payload: dict[str, Any],
) -> None:
    audit.record(
        db,
        actor,
        action,
        target_type="meta_field",
        target_id=meta_field.id,
        target_name=meta_field.name,
        project_id=project.id,
        project_slug=project.slug,
        payload=payload,
    )


def create_meta_field(
    db: Session, actor: User, project: Project, branch: PlanBranch, body: MetaFieldCreate
) -> MetaFieldDefinition:
    taken = db.scalar(
        select(MetaFieldDefinition.id).where(
            MetaFieldDefinition.branch_id == branch.id, MetaFieldDefinition.name == body.name
        )
    )
    if taken is not None:
        raise Conflict(f"Meta field '{body.name}' already exists")
    values = body.model_dump()
    if "order" not in body.model_fields_set:
        last = db.scalar(
            select(func.max(MetaFieldDefinition.order)).where(MetaFieldDefinition.branch_id == branch.id)
        )
        values["order"] = 0 if last is None else last + 1
    meta_field = MetaFieldDefinition(project_id=project.id, branch_id=branch.id, **values)
    db.add(meta_field)
    db.flush()
    _audit(db, actor, "meta_field.create", project, meta_field, values)
    return meta_field


def update_meta_field(
    db: Session, actor: User, project: Project, meta_field: MetaFieldDefinition, body: MetaFieldUpdate
) -> MetaFieldDefinition:
    if "name" in body.model_fields_set and body.name != meta_field.name:
        raise Unprocessable("Meta field name cannot be changed", field="name")
    changes = body.changes()
    field_type = changes.get("field_type", meta_field.field_type)
    if "enum_options" in changes:
        options = changes["enum_options"]
    else:
        options = meta_field.enum_options if field_type == "enum" else None
    default_value = changes.get("default_value", meta_field.default_value)
    try:
        options = normalize_enum_options(field_type, options)
    except RuleError as exc:
        raise Unprocessable(exc.message, field=exc.field) from None
    try:
        check_default(field_type, options, default_value)
    except ValueError as exc:
        raise Unprocessable(str(exc), field="default_value") from None
    if options != meta_field.enum_options:
        changes["enum_options"] = options
    for key, value in changes.items():
        setattr(meta_field, key, value)
    db.flush()
    _audit(db, actor, "meta_field.update", project, meta_field, changes)
    return meta_field


def delete_meta_field(db: Session, actor: User, project: Project, meta_field: MetaFieldDefinition) -> None:
    _audit(db, actor, "meta_field.delete", project, meta_field, {"name": meta_field.name})
    # Event meta values of this field go with it (ON DELETE CASCADE).
    db.delete(meta_field)
    db.flush()
