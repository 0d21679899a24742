"""A generated tracking plan in a temporary PostgreSQL database, written with bulk SQL inserts.

Used by bench_events.py; not part of the test suite.
"""

from __future__ import annotations

import os
import random
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tripl.core.db import utcnow
from tripl.core.migrate import upgrade
from tripl.core.security import hash_password
from tripl.plan.branches.models import BranchKind, BranchStatus, PlanBranch
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event, EventFieldValue, EventMetaValue, EventStatus, EventTag
from tripl.plan.fields.models import FieldDefinition, FieldType
from tripl.plan.meta_fields.models import MetaFieldDefinition, MetaFieldType
from tripl.plan.projects.models import Project
from tripl.plan.variables.models import ValueKind, Variable, VariableType, VariableValueContext
from tripl.workspace.api_keys.models import ApiKeyScope
from tripl.workspace.api_keys.service import create_key
from tripl.workspace.users.models import User, UserRole

PG_ADMIN_URL = os.environ.get(
    "TRIPL_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TYPES = 20
FIELDS_PER_TYPE = 20
CHUNK = 20_000


def create_database() -> str:
    name = f"tripl_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def fill(url: str, n_events: int) -> tuple[str, str]:
    """Insert the plan in bulk; returns (read API key, id of one event type)."""
    rnd = random.Random(7)
    engine = create_engine(url)
    upgrade(engine)  # the schema `serve` expects, migrations included
    now = utcnow()
    user_id, project_id, branch_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            insert(User),
            [
                {
                    "id": user_id,
                    "email": "bench@example.com",
                    "name": "bench",
                    "password_hash": hash_password("benchmark password"),
                    "role": UserRole.owner,
                }
            ],
        )
        conn.execute(
            insert(Project), [{"id": project_id, "name": "Bench", "slug": "bench", "description": ""}]
        )
        conn.execute(
            insert(PlanBranch),
            [
                {
                    "id": branch_id,
                    "project_id": project_id,
                    "name": "main",
                    "kind": BranchKind.main,
                    "status": BranchStatus.merged,
                }
            ],
        )
        scoped = {"project_id": project_id, "branch_id": branch_id}
        types: list[dict[str, Any]] = [
            {"id": uuid.uuid4(), "name": f"type_{t}", "display_name": f"Type {t}", "order": t, **scoped}
            for t in range(TYPES)
        ]
        conn.execute(insert(EventType), types)
        fields: dict[uuid.UUID, list[uuid.UUID]] = {}
        field_rows = []
        for t in types:
            ids = [uuid.uuid4() for _ in range(FIELDS_PER_TYPE)]
            fields[t["id"]] = ids
            field_rows += [
                {
                    "id": fid,
                    "event_type_id": t["id"],
                    "name": f"field_{i}",
                    "display_name": f"F{i}",
                    "field_type": FieldType.string,
                    "is_required": i == 0,
                    "order": i,
                }
                for i, fid in enumerate(ids)
            ]
        conn.execute(insert(FieldDefinition), field_rows)
        metas = [
            {
                "id": uuid.uuid4(),
                "name": f"meta_{i}",
                "display_name": f"Meta {i}",
                "field_type": MetaFieldType.string,
                "order": i,
                **scoped,
            }
            for i in range(3)
        ]
        conn.execute(insert(MetaFieldDefinition), metas)
        variable_id = uuid.uuid4()
        conn.execute(
            insert(Variable),
            [{"id": variable_id, "name": "screen", "variable_type": VariableType.string, **scoped}],
        )

        statuses = list(EventStatus)
        events, values, tags, meta_values, contexts = [], [], [], [], []
        for n in range(n_events):
            t = types[n % TYPES]
            event_id = uuid.uuid4()
            events.append(
                {
                    "id": event_id,
                    "event_type_id": t["id"],
                    "name": f"{t['name']}_event_{n}",
                    "source_name": f"{t['name']}_event_{n}",
                    "description": f"Generated event number {n}",
                    "order": n,
                    "status": statuses[n % len(statuses)],
                    "reviewed": n % 3 == 0,
                    "metric_breakdown_columns": [],
                    "created_at": now,
                    "updated_at": now,
                    "last_seen_at": now - timedelta(days=rnd.randint(0, 60)) if n % 4 else None,
                    **scoped,
                }
            )
            values += [
                {
                    "id": uuid.uuid4(),
                    "event_id": event_id,
                    "field_definition_id": fid,
                    "value": f"value_{n}_{i}" if i else "${screen}",
                    "authored": True,
                }
                for i, fid in enumerate(fields[t["id"]])
            ]
            tags += [
                {"id": uuid.uuid4(), "event_id": event_id, "name": f"tag_{k}"} for k in {n % 50, (n * 7) % 50}
            ]
            meta_values.append(
                {
                    "id": uuid.uuid4(),
                    "event_id": event_id,
                    "meta_field_definition_id": metas[n % 3]["id"],
                    "value": f"JIRA-{n}",
                }
            )
            contexts.append(
                {
                    "id": uuid.uuid4(),
                    "variable_id": variable_id,
                    "event_id": event_id,
                    "field_definition_id": fields[t["id"]][0],
                    "source_column": "screen",
                    "value_kind": ValueKind.low,
                    "observed_count": 3,
                    "values": ["home", "cart", "pay"],
                    "updated_at": now,
                }
            )
        for model, rows in (
            (Event, events),
            (EventFieldValue, values),
            (EventTag, tags),
            (EventMetaValue, meta_values),
            (VariableValueContext, contexts),
        ):
            for start in range(0, len(rows), CHUNK):
                conn.execute(insert(model), rows[start : start + CHUNK])
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))

    with Session(engine) as db, db.begin():
        user = db.get(User, user_id)
        assert user is not None
        _, token = create_key(
            db, user, name="bench", scope=ApiKeyScope.read, expires_in_days=None, project_slug=None
        )
    engine.dispose()
    return token, str(types[3]["id"])
