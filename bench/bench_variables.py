"""List Variables figures: one pass over placeholder values vs a LIKE join, at catalog scale.

    uv run python bench/bench_variables.py [--database-url URL] [--variables 2000] [--events 10000]

Builds a plan with N variables (one to three value contexts each) and M events of one type with
ten fields (about a third of the values hold `${name}` placeholders, a tenth of the events also
in a meta value), then times, for the whole list:
  - tripl's way (tripl.plan.variables.usage.usage): one SQL pass fetching the values containing
    `${`, placeholders extracted in Python, plus one query for the contexts;
  - the alternative: one grouped SQL query joining variables to values on
    value LIKE '%${' || name || '}%'.
Both must agree on every event_count. The database defaults to a temporary SQLite file; pass a
URL of an empty PostgreSQL database to measure there (tables are created, not dropped).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import func, insert, literal, select, union_all
from sqlalchemy.orm import Session

from tripl.core.db import Database, utcnow
from tripl.models import Base
from tripl.plan.branches.models import BranchKind, BranchStatus, PlanBranch
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event, EventFieldValue, EventMetaValue
from tripl.plan.fields.models import FieldDefinition, FieldType
from tripl.plan.meta_fields.models import MetaFieldDefinition, MetaFieldType
from tripl.plan.projects.models import Project
from tripl.plan.variables.models import ValueKind, Variable, VariableType, VariableValueContext
from tripl.plan.variables.usage import usage


def build(db: Session, n_variables: int, n_events: int) -> uuid.UUID:
    rng = random.Random(7)
    project = Project(name="Bench", slug=f"bench-{uuid.uuid4().hex[:8]}")
    db.add(project)
    db.flush()
    branch = PlanBranch(project_id=project.id, name="main", kind=BranchKind.main, status=BranchStatus.merged)
    db.add(branch)
    db.flush()
    event_type = EventType(project_id=project.id, branch_id=branch.id, name="screen")
    meta = MetaFieldDefinition(
        project_id=project.id, branch_id=branch.id, name="jira", field_type=MetaFieldType.string
    )
    db.add_all([event_type, meta])
    db.flush()
    fields = [
        FieldDefinition(event_type_id=event_type.id, name=f"f{i}", field_type=FieldType.string, order=i)
        for i in range(10)
    ]
    db.add_all(fields)
    db.flush()
    names = [f"var_{i}" for i in range(n_variables)]
    variable_ids = [uuid.uuid4() for _ in names]
    db.execute(
        insert(Variable),
        [
            {
                "id": vid,
                "project_id": project.id,
                "branch_id": branch.id,
                "name": name,
                "variable_type": VariableType.string,
                "description": "",
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
            for vid, name in zip(variable_ids, names, strict=True)
        ],
    )
    event_ids = [uuid.uuid4() for _ in range(n_events)]
    db.execute(
        insert(Event),
        [
            {
                "id": eid,
                "project_id": project.id,
                "branch_id": branch.id,
                "event_type_id": event_type.id,
                "name": f"event {i}",
                "source_name": f"event {i}",
                "order": i,
                "created_at": utcnow(),
                "updated_at": utcnow(),
                "metric_breakdown_columns": [],
            }
            for i, eid in enumerate(event_ids)
        ],
    )
    values, metas, contexts = [], [], []
    for eid in event_ids:
        for field in fields:
            value = f"screen {rng.randint(0, 999)}"
            if rng.random() < 0.33:
                value = f"{value} ${{{rng.choice(names)}}}"
            values.append(
                {
                    "id": uuid.uuid4(),
                    "event_id": eid,
                    "field_definition_id": field.id,
                    "value": value,
                    "authored": True,
                }
            )
        if rng.random() < 0.1:
            metas.append(
                {
                    "id": uuid.uuid4(),
                    "event_id": eid,
                    "meta_field_definition_id": meta.id,
                    "value": f"JIRA-${{{rng.choice(names)}}}",
                }
            )
    for vid in variable_ids:
        for eid, field in {(rng.choice(event_ids), rng.choice(fields)) for _ in range(rng.randint(1, 3))}:
            contexts.append(
                {
                    "id": uuid.uuid4(),
                    "variable_id": vid,
                    "event_id": eid,
                    "field_definition_id": field.id,
                    "source_column": "col",
                    "value_kind": rng.choice(list(ValueKind)),
                    "observed_count": rng.randint(1, 999),
                    "values": [str(rng.randint(0, 99)) for _ in range(rng.randint(1, 15))],
                    "updated_at": utcnow(),
                }
            )
    for rows, model in ((values, EventFieldValue), (metas, EventMetaValue), (contexts, VariableValueContext)):
        for start in range(0, len(rows), 5000):
            db.execute(insert(model), rows[start : start + 5000])
    return branch.id


def like_join_counts(db: Session, branch_id: uuid.UUID) -> dict[str, int]:
    vals = union_all(
        select(EventFieldValue.event_id, EventFieldValue.value)
        .join(Event, Event.id == EventFieldValue.event_id)
        .where(Event.branch_id == branch_id),
        select(EventMetaValue.event_id, EventMetaValue.value)
        .join(Event, Event.id == EventMetaValue.event_id)
        .where(Event.branch_id == branch_id),
    ).subquery()
    escaped = func.replace(func.replace(Variable.name, "\\", "\\\\"), "_", "\\_")
    pattern = literal("%${") + escaped + literal("}%")
    rows = db.execute(
        select(Variable.name, func.count(func.distinct(vals.c.event_id)))
        .select_from(Variable)
        .outerjoin(vals, vals.c.value.like(pattern, escape="\\"))
        .where(Variable.branch_id == branch_id)
        .group_by(Variable.name)
    )
    return {name: count for name, count in rows}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--variables", type=int, default=2000)
    parser.add_argument("--events", type=int, default=10000)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    database = Database(url)
    Base.metadata.create_all(database.engine)
    started = time.perf_counter()
    with database.transaction() as db:
        branch_id = build(db, args.variables, args.events)
    print(
        f"{database.dialect}: {args.variables} variables, {args.events} events x 10 fields "
        f"(built in {time.perf_counter() - started:.1f}s)"
    )
    with database.sessions() as db:
        variables = list(db.scalars(select(Variable).where(Variable.branch_id == branch_id)))
        started = time.perf_counter()
        figures = usage(db, branch_id, variables)
        one_pass = time.perf_counter() - started
        print(f"  one pass (tripl):  {one_pass * 1000:8.0f} ms for all figures")
        started = time.perf_counter()
        joined = like_join_counts(db, branch_id)
        like_join = time.perf_counter() - started
        print(f"  LIKE join:         {like_join * 1000:8.0f} ms for event counts only")
    assert joined == {v.name: figures[v.id].event_count for v in variables}, "the two ways disagree"
    print(
        f"  both agree on all {len(variables)} event counts; "
        f"LIKE join / one pass = {like_join / one_pass:.0f}x"
    )


if __name__ == "__main__":
    main()
