from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tripl.core.errors import Conflict, Invalid, NotFound, Unprocessable
from tripl.plan.event_types.models import EventType
from tripl.plan.fields.models import FieldDefinition
from tripl.plan.fields.rules import RuleError, check_bounds, normalize_enum_options
from tripl.plan.fields.schemas import FieldDefinitionCreate, FieldDefinitionResponse, FieldDefinitionUpdate
from tripl.plan.projects.models import Project
from tripl.workspace.audit import service as audit
from tripl.workspace.users.models import User


def fields_by_type(
    db: Session, event_type_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[FieldDefinition]]:
    """The fields of many event types with one query, each list ordered by (order, name)."""
    grouped: dict[uuid.UUID, list[FieldDefinition]] = {tid: [] for tid in event_type_ids}
    if not grouped:
        return grouped
    rows = db.scalars(
        select(FieldDefinition)
        .where(FieldDefinition.event_type_id.in_(list(grouped)))
        .order_by(FieldDefinition.order, FieldDefinition.name, FieldDefinition.id)
    )
    for field in rows:
        grouped[field.event_type_id].append(field)
    return grouped


def list_fields(db: Session, event_type: EventType) -> list[FieldDefinition]:
    return fields_by_type(db, [event_type.id])[event_type.id]


def to_response(fields: Sequence[FieldDefinition]) -> list[FieldDefinitionResponse]:
    return [FieldDefinitionResponse.model_validate(f) for f in fields]


def get_field(db: Session, event_type: EventType, field_id: uuid.UUID) -> FieldDefinition:
    field = db.scalar(
        select(FieldDefinition).where(
            FieldDefinition.id == field_id, FieldDefinition.event_type_id == event_type.id
        )
    )
    if field is None:
        raise NotFound("Field not found")
    return field


def _names_taken(db: Session, event_type_id: uuid.UUID) -> set[str]:
    return set(db.scalars(select(FieldDefinition.name).where(FieldDefinition.event_type_id == event_type_id)))


def _next_order(db: Session, event_type_id: uuid.UUID) -> int:
    last = db.scalar(
        select(func.max(FieldDefinition.order)).where(FieldDefinition.event_type_id == event_type_id)
    )
    return 0 if last is None else last + 1


def _refuse_repeated_names(specs: Sequence[FieldDefinitionCreate], body_key: str) -> None:
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        if spec.name in seen:
            raise Unprocessable(
                [
                    {
                        "loc": ["body", body_key, index, "name"],
                        "msg": f"Field name '{spec.name}' appears more than once in the request",
                        "type": "value_error",
                    }
                ]
            )
        seen.add(spec.name)


def add_fields(
    db: Session, event_type: EventType, specs: Sequence[FieldDefinitionCreate], *, body_key: str = "fields"
) -> list[FieldDefinition]:
    """Insert already validated specs; fields without an explicit order are appended in sequence.

    The caller has dealt with names that already exist on the type.
    """
    _refuse_repeated_names(specs, body_key)
    next_order = _next_order(db, event_type.id)
    created = []
    for spec in specs:
        values = spec.model_dump()
        if "order" not in spec.model_fields_set:
            values["order"] = next_order
        next_order = max(next_order, values["order"] + 1)
        field = FieldDefinition(event_type_id=event_type.id, **values)
        db.add(field)
        created.append(field)
    db.flush()
    return created


def _audit(
    db: Session,
    actor: User,
    action: str,
    project: Project,
    event_type: EventType,
    payload: dict[str, Any],
    field: FieldDefinition | None = None,
) -> None:
    audit.record(
        db,
        actor,
        action,
        target_type="field_definition" if field else "event_type",
        target_id=field.id if field else event_type.id,
        target_name=f"{event_type.name}.{field.name}" if field else event_type.name,
        project_id=project.id,
        project_slug=project.slug,
        payload=payload,
    )


def create_field(
    db: Session, actor: User, project: Project, event_type: EventType, spec: FieldDefinitionCreate
) -> FieldDefinition:
    if spec.name in _names_taken(db, event_type.id):
        raise Conflict("Field with this name already exists for event type")
    [field] = add_fields(db, event_type, [spec])
    _audit(db, actor, "field.create", project, event_type, spec.model_dump(), field)
    return field


def bulk_create(
    db: Session, actor: User, project: Project, event_type: EventType, specs: Sequence[FieldDefinitionCreate]
) -> list[FieldDefinition]:
    """Create the fields whose names are new (existing names are skipped); returns every field of the type."""
    _refuse_repeated_names(specs, "fields")
    taken = _names_taken(db, event_type.id)
    new = [spec for spec in specs if spec.name not in taken]
    add_fields(db, event_type, new, body_key="fields")
    _audit(
        db,
        actor,
        "field.bulk_create",
        project,
        event_type,
        {"created": [s.name for s in new], "skipped": [s.name for s in specs if s.name in taken]},
    )
    return list_fields(db, event_type)


def reorder(
    db: Session, actor: User, project: Project, event_type: EventType, field_ids: Sequence[uuid.UUID]
) -> list[FieldDefinition]:
    """Listed fields take their position as order; fields left out keep their sequence after them."""
    fields = list_fields(db, event_type)
    by_id = {f.id: f for f in fields}
    if len(set(field_ids)) != len(field_ids):
        raise Invalid("field_ids must not repeat a field")
    foreign = [str(fid) for fid in field_ids if fid not in by_id]
    if foreign:
        raise Invalid(f"Fields do not belong to this event type: {', '.join(foreign)}")
    listed = set(field_ids)
    sequence = [by_id[fid] for fid in field_ids] + [f for f in fields if f.id not in listed]
    for position, field in enumerate(sequence):
        field.order = position
    db.flush()
    _audit(db, actor, "field.reorder", project, event_type, {"field_ids": [str(f.id) for f in sequence]})
    return sequence


def update_field(
    db: Session,
    actor: User,
    project: Project,
    event_type: EventType,
    field: FieldDefinition,
    body: FieldDefinitionUpdate,
) -> FieldDefinition:
    if "name" in body.model_fields_set and body.name != field.name:
        raise Unprocessable("Field name cannot be changed", field="name")
    changes = body.changes()
    field_type = changes.get("field_type", field.field_type)
    if "enum_options" in changes:
        options = changes["enum_options"]
    else:
        options = field.enum_options if field_type == "enum" else None
    min_value = changes.get("contract_min_value", field.contract_min_value)
    max_value = changes.get("contract_max_value", field.contract_max_value)
    try:
        options = normalize_enum_options(field_type, options)
        check_bounds(min_value, max_value)
    except RuleError as exc:
        blamed = exc.field
        if blamed == "contract_min_value" and "contract_min_value" not in changes:
            blamed = "contract_max_value"
        raise Unprocessable(exc.message, field=blamed) from None
    if options != field.enum_options:
        changes["enum_options"] = options
    for key, value in changes.items():
        setattr(field, key, value)
    db.flush()
    _audit(db, actor, "field.update", project, event_type, changes, field)
    return field


def delete_field(
    db: Session, actor: User, project: Project, event_type: EventType, field: FieldDefinition
) -> None:
    _audit(db, actor, "field.delete", project, event_type, {"name": field.name}, field)
    # Event values and relations that use the field go with it (ON DELETE CASCADE).
    db.delete(field)
    db.flush()
