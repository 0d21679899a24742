"""The demo project: a generated DuckDB warehouse, a small tracking plan, and the real pipeline over it.

Provisioning is three steps, each committed on its own like any scan a user starts:
1. write the warehouse file (`generator.py`, ending at the current hour);
2. one transaction: the project with its plan (event types, fields, meta fields, planned events),
   a duckdb data source pointing at the file and an hourly monitoring scan config;
3. a catalog job, then a replay job over every generated day, run synchronously in this process
   through the job runner a worker would use; their outcome is the project's latest scan job.
Nothing in the project is hard-coded from the generator's knowledge: events, metrics, shadow
events and signals are whatever the pipeline finds in the warehouse.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event as orm_events
from sqlalchemy import select
from sqlalchemy.orm import Session

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.core.errors import Conflict, Forbidden, NotFound
from tripl.demo.generator import EVENTS as GENERATED_EVENTS
from tripl.demo.generator import DemoSummary, generate_demo_warehouse
from tripl.observe.data_sources.models import DataSource
from tripl.observe.data_sources.schemas import DataSourceCreate
from tripl.observe.data_sources.service import create_data_source, warehouses_dir
from tripl.observe.scans.models import ScanConfig, ScanInterval, ScanJob, ScanJobKind, ScanJobStatus
from tripl.observe.scans.schemas import ScanConfigCreate
from tripl.observe.scans.validation import check_config
from tripl.observe.warehouse.base import DBType
from tripl.plan.branches.service import main_branch
from tripl.plan.event_types.schemas import EventTypeCreate
from tripl.plan.event_types.service import create_event_type
from tripl.plan.events.models import EventStatus
from tripl.plan.events.schemas import EventCreate, EventFieldValueIn, EventMetaValueIn
from tripl.plan.events.service import create_events
from tripl.plan.fields.models import FieldDefinition, FieldType
from tripl.plan.fields.schemas import FieldDefinitionCreate
from tripl.plan.meta_fields.models import MetaFieldType
from tripl.plan.meta_fields.schemas import MetaFieldCreate
from tripl.plan.meta_fields.service import create_meta_field
from tripl.plan.projects.models import Project
from tripl.plan.projects.service import create_project
from tripl.workspace.audit import service as audit
from tripl.workspace.users.models import User, UserRole

log = logging.getLogger(__name__)

DEMO_NAME = "Demo shop"
DEMO_PROJECT_KEY = "demo_project_id"
DEMO_DAYS = 21
SLUG_ATTEMPTS = 5
SCAN_NAME = "Demo events (hourly)"
SCAN_BASE_QUERY = (
    "SELECT event_time, event_name, event_type, platform, app_version, screen, button_id, properties "
    "FROM events"
)
# The planned event that is implemented but never sent: the plan's "dead" event.
NEVER_ARRIVES = "gift_card_redeemed"
WAREHOUSE_EVENTS = {spec.name: spec for spec in GENERATED_EVENTS}


@dataclass(frozen=True)
class PlannedType:
    name: str
    display_name: str
    color: str
    description: str
    has_button: bool = False


TYPES = (
    PlannedType("screen_view", "Screen view", "#6366f1", "A screen became visible"),
    PlannedType("click", "Click", "#0ea5e9", "A tap or click on a named control", has_button=True),
    PlannedType("purchase", "Purchase", "#16a34a", "Money changed hands"),
    PlannedType("signup", "Sign-up", "#f59e0b", "Account creation and sign-in"),
    PlannedType("error", "Error", "#dc2626", "Something failed in front of the user"),
    PlannedType("app", "App lifecycle", "#64748b", "App and push lifecycle"),
)


@dataclass(frozen=True)
class PlannedEvent:
    name: str
    event_type: str
    status: EventStatus
    tags: tuple[str, ...]
    description: str
    jira: str | None = None
    team: str | None = None


EVENTS = (
    PlannedEvent("home_view", "screen_view", EventStatus.live, ("core", "navigation"), "Home screen shown"),
    PlannedEvent("product_view", "screen_view", EventStatus.live, ("core", "catalog"), "Product page shown"),
    PlannedEvent("cart_view", "screen_view", EventStatus.implemented, ("checkout",), "Cart shown"),
    PlannedEvent(
        "checkout_view",
        "screen_view",
        EventStatus.live,
        ("checkout", "revenue"),
        "Checkout shown",
        "SHOP-112",
    ),
    PlannedEvent("add_to_cart_tap", "click", EventStatus.live, ("core", "checkout"), "Add to cart pressed"),
    PlannedEvent("checkout_tap", "click", EventStatus.live, ("checkout",), "Checkout pressed in the cart"),
    PlannedEvent("share_tap", "click", EventStatus.live, ("social",), "Product shared", team="growth"),
    PlannedEvent("search_submit", "click", EventStatus.in_review, ("search",), "Search submitted"),
    PlannedEvent(
        "purchase_completed",
        "purchase",
        EventStatus.live,
        ("core", "revenue"),
        "Order paid; properties carry amount, currency and product",
        "SHOP-101",
        "checkout",
    ),
    PlannedEvent("purchase_refunded", "purchase", EventStatus.implemented, ("revenue",), "Order refunded"),
    PlannedEvent(
        NEVER_ARRIVES,
        "purchase",
        EventStatus.implemented,
        ("revenue", "gift-cards"),
        "Gift card redeemed at checkout (shipped in 2.3.0, per the release notes)",
        "SHOP-140",
        "checkout",
    ),
    PlannedEvent("signup_completed", "signup", EventStatus.live, ("core", "growth"), "Account created"),
    PlannedEvent("payment_error", "error", EventStatus.live, ("checkout",), "Payment provider refused"),
    PlannedEvent("push_received", "app", EventStatus.implemented, ("notifications",), "Push delivered"),
)


def _fields(planned: PlannedType) -> list[FieldDefinitionCreate]:
    """One field per warehouse column the scan reads, so the catalog maps every column."""
    fields = [
        FieldDefinitionCreate(
            name="platform",
            display_name="Platform",
            field_type=FieldType.enum,
            enum_options=["ios", "android", "web"],
        ),
        FieldDefinitionCreate(name="app_version", display_name="App version", field_type=FieldType.string),
        FieldDefinitionCreate(name="screen", display_name="Screen", field_type=FieldType.string),
        FieldDefinitionCreate(
            name="properties",
            display_name="Properties",
            field_type=FieldType.json,
            description="Event payload (nested JSON)",
        ),
    ]
    if planned.has_button:
        fields.append(
            FieldDefinitionCreate(
                name="button_id", display_name="Button", field_type=FieldType.string, is_required=True
            )
        )
    return fields


META_FIELDS = (
    MetaFieldCreate(
        name="jira",
        display_name="Jira ticket",
        field_type=MetaFieldType.string,
        link_template="https://jira.example.com/browse/{value}",
    ),
    MetaFieldCreate(
        name="team",
        display_name="Owning team",
        field_type=MetaFieldType.enum,
        enum_options=["checkout", "growth", "platform"],
        default_value="platform",
    ),
)


def _description(summary: DemoSummary) -> str:
    def at(moment: datetime) -> str:
        return moment.strftime("%b %d %H:%M UTC")

    return (
        f"A sample shop generated by tripl: {DEMO_DAYS} days of hourly events in a local DuckDB "
        "warehouse, scanned by the real pipeline. Things to find: "
        f"{summary.drop_platform} traffic fell to {summary.drop_factor:.0%} from {at(summary.drop.start)} "
        f"to {at(summary.drop.end)}; a push campaign multiplied {summary.spike_event} from "
        f"{at(summary.spike.start)}; {summary.new_event} started arriving at {at(summary.new_event_since)} "
        f"without a plan entry; {summary.stopped_event} stopped at {at(summary.stopped_event_at)}; "
        f"release {summary.type_change_version} sends {summary.type_change_field} of "
        f"{summary.type_change_event} as text; {NEVER_ARRIVES} is planned but never sent."
    )


def _seed_plan(db: Session, actor: User, project: Project) -> None:
    branch = main_branch(db, project)
    type_ids: dict[str, uuid.UUID] = {}
    for planned in TYPES:
        body = EventTypeCreate(
            name=planned.name,
            display_name=planned.display_name,
            description=planned.description,
            color=planned.color,
            field_definitions=_fields(planned),
        )
        type_ids[planned.name] = create_event_type(db, actor, project, branch, body).id
    type_names = {type_id: name for name, type_id in type_ids.items()}
    field_ids = {
        (type_names[type_id], name): field_id
        for type_id, name, field_id in db.execute(
            select(FieldDefinition.event_type_id, FieldDefinition.name, FieldDefinition.id).where(
                FieldDefinition.event_type_id.in_(type_names)
            )
        ).all()
    }
    meta_ids = {meta.name: create_meta_field(db, actor, project, branch, meta).id for meta in META_FIELDS}

    bodies = []
    for event in EVENTS:
        generated = WAREHOUSE_EVENTS.get(event.name)
        screen = generated.screen if generated else "checkout"
        values = [
            EventFieldValueIn(field_definition_id=field_ids[(event.event_type, "screen")], value=screen)
        ]
        button = generated.button_id if generated else None
        if button:
            values.append(
                EventFieldValueIn(
                    field_definition_id=field_ids[(event.event_type, "button_id")], value=button
                )
            )
        metas = []
        if event.jira:
            metas.append(EventMetaValueIn(meta_field_definition_id=meta_ids["jira"], value=event.jira))
        if event.team:
            metas.append(EventMetaValueIn(meta_field_definition_id=meta_ids["team"], value=event.team))
        bodies.append(
            EventCreate(
                event_type_id=type_ids[event.event_type],
                name=event.name,
                description=event.description,
                status=event.status,
                reviewed=event.status in (EventStatus.live, EventStatus.implemented),
                tags=list(event.tags),
                field_values=values,
                meta_values=metas,
            )
        )
    create_events(db, actor, project, branch, bodies, bulk=True)


def release_demo_warehouse(db: Session, ctx: TriplContext, project: Project) -> None:
    """For a project being deleted: delete the demo data source made for it and, once the
    transaction commits, its DuckDB file. Call in the deleting transaction, before the delete."""
    sources = [
        source
        for source in db.scalars(select(DataSource).where(DataSource.db_type == DBType.duckdb))
        if (source.extra_params or {}).get(DEMO_PROJECT_KEY) == str(project.id)
    ]
    paths = [warehouses_dir(ctx) / Path(source.database_name).name for source in sources]
    for source in sources:
        db.delete(source)

    def remove_files(_session: Session) -> None:
        for path in paths:
            path.unlink(missing_ok=True)

    if paths:
        orm_events.listen(db, "after_commit", remove_files, once=True)


def _create_scan(db: Session, ctx: TriplContext, actor: User, project: Project) -> ScanConfig:
    data_source = create_data_source(
        db,
        ctx,
        actor,
        DataSourceCreate(
            name=f"Demo warehouse {project.slug}",
            db_type=DBType.duckdb,
            host="localhost",
            database_name=f"{project.slug}.duckdb",
            # Marks the warehouse as the demo's own: deleting the project deletes it and its file.
            extra_params={DEMO_PROJECT_KEY: str(project.id)},
        ).model_dump(),
    )
    body = ScanConfigCreate(
        data_source_id=data_source.id,
        name=SCAN_NAME,
        base_query=SCAN_BASE_QUERY,
        event_type_column="event_type",
        time_column="event_time",
        event_name_format="{event_name}",
        interval=ScanInterval.h1,
        replay_chunk_interval=ScanInterval.d1,
        metric_breakdown_columns=["platform"],
        distribution_drift_fields=["platform"],
        app_version_column="app_version",
        json_value_paths=["properties.currency", "properties.payment.method"],
    )
    values = body.model_dump()
    check_config(values)
    config = ScanConfig(project_id=project.id, **values)
    db.add(config)
    db.flush()
    return config


def _free_slug(ctx: TriplContext) -> str:
    with ctx.db.sessions() as db:
        for _ in range(SLUG_ATTEMPTS):
            slug = f"demo-{secrets.token_hex(3)}"
            if db.scalar(select(Project.id).where(Project.slug == slug)) is None:
                return slug
    raise Conflict("Could not find a free demo project slug; try again")


def _load_actor(db: Session, actor_id: uuid.UUID) -> User:
    actor = db.get(User, actor_id)
    if actor is None:
        raise NotFound("User not found")
    if actor.role not in (UserRole.owner, UserRole.editor):
        raise Forbidden("Creating the demo project needs the editor or owner role")
    return actor


def create_demo_project(ctx: TriplContext, actor_id: uuid.UUID, *, now: datetime | None = None) -> uuid.UUID:
    """Build the warehouse, the project and its scan, then run the pipeline; returns the project id.

    If anything before the scan jobs fails, nothing is kept (no project, no file). A failing scan
    job is kept as it is: the project then shows the failed job like any other scan would.
    """
    slug = _free_slug(ctx)
    end = (now or utcnow()).astimezone(UTC)
    path = warehouses_dir(ctx) / f"{slug}.duckdb"
    summary = generate_demo_warehouse(path, days=DEMO_DAYS, end=end)
    try:
        with ctx.db.transaction() as db:
            actor = _load_actor(db, actor_id)
            project = create_project(db, actor, name=DEMO_NAME, slug=slug, description=_description(summary))
            _seed_plan(db, actor, project)
            config = _create_scan(db, ctx, actor, project)
            audit.record(
                db,
                actor,
                "project.create_demo",
                target_type="project",
                target_id=project.id,
                target_name=project.name,
                project_id=project.id,
                project_slug=slug,
                payload={"warehouse_rows": summary.rows, "days": DEMO_DAYS, "scan_config_id": config.id},
            )
            project_id, config_id = project.id, config.id
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    for kind in (ScanJobKind.catalog, ScanJobKind.replay):
        window: dict[str, Any] = (
            {"time_from": summary.start, "time_to": summary.end} if kind == ScanJobKind.replay else {}
        )
        status = run_scan_job(ctx, config_id, actor_id, kind, **window)
        if status != ScanJobStatus.completed:
            log.warning("demo project %s: the %s job ended %s", slug, kind.value, status.value)
            break
    return project_id


def run_scan_job(
    ctx: TriplContext,
    config_id: uuid.UUID,
    actor_id: uuid.UUID,
    kind: ScanJobKind,
    *,
    time_from: datetime | None = None,
    time_to: datetime | None = None,
) -> ScanJobStatus:
    """Create a job row and run it here, now, with the runner a worker uses; returns its final status."""
    from tripl.observe.scans.jobs import run_job

    with ctx.db.transaction() as db:
        job = ScanJob(
            scan_config_id=config_id,
            kind=kind,
            trigger="manual",
            status=ScanJobStatus.pending,
            time_from=time_from,
            time_to=time_to,
            created_by=actor_id,
        )
        db.add(job)
        db.flush()
        job_id = job.id
    status = run_job(ctx, job_id)
    if status is None:  # another worker claimed it first (a duplicate queue message): read its state
        with ctx.db.sessions() as db:
            status = db.scalar(select(ScanJob.status).where(ScanJob.id == job_id))
    assert status is not None
    return status
