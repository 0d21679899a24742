from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from tripl.core.errors import Conflict, NotFound, Unprocessable
from tripl.plan.branches.models import PlanBranch
from tripl.plan.event_types.models import EventType
from tripl.plan.fields.models import FieldDefinition
from tripl.plan.projects.models import Project
from tripl.plan.relations.models import Relation
from tripl.plan.relations.schemas import RelationCreate
from tripl.workspace.audit import service as audit
from tripl.workspace.users.models import User


def list_relations(db: Session, branch: PlanBranch) -> list[Relation]:
    return list(
        db.scalars(
            select(Relation).where(Relation.branch_id == branch.id).order_by(Relation.created_at, Relation.id)
        )
    )


def get_relation(db: Session, project: Project, branch: PlanBranch, relation_id: uuid.UUID) -> Relation:
    relation = db.scalar(
        select(Relation).where(
            Relation.id == relation_id, Relation.project_id == project.id, Relation.branch_id == branch.id
        )
    )
    if relation is None:
        raise NotFound("Relation not found")
    return relation


def _check_ends(db: Session, branch: PlanBranch, body: RelationCreate) -> dict[uuid.UUID, str]:
    """Ids outside this project+branch are 404; a field of the other type is 422. Returns type names."""
    type_ids = {body.source_event_type_id, body.target_event_type_id}
    types = {
        type_id: name
        for type_id, name in db.execute(
            select(EventType.id, EventType.name).where(
                EventType.id.in_(type_ids), EventType.branch_id == branch.id
            )
        )
    }
    if set(types) != type_ids:
        raise NotFound("Event type not found")
    field_ids = {body.source_field_id, body.target_field_id}
    owners = {
        field_id: type_id
        for field_id, type_id in db.execute(
            select(FieldDefinition.id, FieldDefinition.event_type_id)
            .join(EventType, EventType.id == FieldDefinition.event_type_id)
            .where(FieldDefinition.id.in_(field_ids), EventType.branch_id == branch.id)
        )
    }
    if set(owners) != field_ids:
        raise NotFound("Field not found")
    if owners[body.source_field_id] != body.source_event_type_id:
        raise Unprocessable(
            "source_field_id must be a field of the source event type", field="source_field_id"
        )
    if owners[body.target_field_id] != body.target_event_type_id:
        raise Unprocessable(
            "target_field_id must be a field of the target event type", field="target_field_id"
        )
    return types


def create_relation(
    db: Session, actor: User, project: Project, branch: PlanBranch, body: RelationCreate
) -> Relation:
    names = _check_ends(db, branch, body)
    duplicate = db.scalar(
        select(Relation.id).where(
            Relation.branch_id == branch.id,
            Relation.source_field_id == body.source_field_id,
            Relation.target_field_id == body.target_field_id,
            Relation.relation_type == body.relation_type,
        )
    )
    if duplicate is not None:
        raise Conflict("This relation already exists")
    relation = Relation(project_id=project.id, branch_id=branch.id, **body.model_dump())
    db.add(relation)
    db.flush()
    audit.record(
        db,
        actor,
        "relation.create",
        target_type="relation",
        target_id=relation.id,
        target_name=" ".join(
            (names[body.source_event_type_id], body.relation_type, names[body.target_event_type_id])
        ),
        project_id=project.id,
        project_slug=project.slug,
        payload=body.model_dump(),
    )
    return relation


def delete_relation(db: Session, actor: User, project: Project, relation: Relation) -> None:
    audit.record(
        db,
        actor,
        "relation.delete",
        target_type="relation",
        target_id=relation.id,
        target_name=relation.relation_type,
        project_id=project.id,
        project_slug=project.slug,
        payload={
            "source_field_id": relation.source_field_id,
            "target_field_id": relation.target_field_id,
            "relation_type": relation.relation_type,
        },
    )
    db.delete(relation)
    db.flush()
