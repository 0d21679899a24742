from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.plan.event_support import count_statements
from tests.plan.factories import main_branch_id, make_event, make_event_type, make_working_branch
from tripl.core.context import TriplContext
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import EventStatus
from tripl.plan.variables.models import Variable, VariableType

EMPTY = {
    "event_type_count": 0,
    "event_count": 0,
    "active_event_count": 0,
    "implemented_event_count": 0,
    "review_pending_event_count": 0,
    "archived_event_count": 0,
    "variable_count": 0,
    "scan_count": 0,
    "alert_destination_count": 0,
    "monitoring_signal_count": 0,
    "firing_monitor_count": 0,
    "latest_scan_job": None,
    "latest_signal": None,
}


def new_project(owner: TestClient, slug: str) -> dict[str, Any]:
    response = owner.post("/api/v1/projects", json={"name": slug, "slug": slug})
    assert response.status_code == 201
    assert response.json()["summary"] == EMPTY
    return dict(response.json())


def add_variable(context: TriplContext, project_id: str, branch_id: Any, name: str) -> None:
    with context.db.transaction() as db:
        db.add(
            Variable(project_id=project_id, branch_id=branch_id, name=name, variable_type=VariableType.string)
        )


def test_summary_counts_the_main_plan_by_status(
    owner: TestClient, viewer: TestClient, context: TriplContext
) -> None:
    shop = new_project(owner, "shop")
    screen, _ = make_event_type(context, shop["id"], "screen")
    make_event_type(context, shop["id"], "click")
    statuses = [
        EventStatus.draft,
        EventStatus.in_review,
        EventStatus.in_review,
        EventStatus.implemented,
        EventStatus.live,
        EventStatus.deprecated,
        EventStatus.archived,
    ]
    for n, status in enumerate(statuses):
        make_event(context, screen, f"e{n}", status=status)
    add_variable(context, screen.project_id, screen.branch_id, "screen")
    # A working branch's rows are drafts: they do not count.
    branch_id = make_working_branch(context, shop["id"])
    with context.db.transaction() as db:
        branch_type = EventType(project_id=screen.project_id, branch_id=branch_id, name="screen")
        db.add(branch_type)
    make_event(context, branch_type, "draft copy", status=EventStatus.live)
    add_variable(context, screen.project_id, branch_id, "screen")

    summary = viewer.get("/api/v1/projects/shop").json()["summary"]
    assert summary == {
        **EMPTY,
        "event_type_count": 2,
        "event_count": 7,
        "active_event_count": 6,
        "implemented_event_count": 2,
        "review_pending_event_count": 2,
        "archived_event_count": 1,
        "variable_count": 1,
    }


def test_project_list_sums_each_project_with_a_fixed_number_of_queries(
    owner: TestClient, context: TriplContext
) -> None:
    new_project(owner, "empty")
    for slug, events in (("one", 1), ("three", 3)):
        project = new_project(owner, slug)
        event_type, _ = make_event_type(context, project["id"], "t")
        for n in range(events):
            make_event(context, event_type, f"e{n}", status=EventStatus.live)
    with count_statements(context) as few:
        listed = owner.get("/api/v1/projects").json()
    assert {p["slug"]: p["summary"]["event_count"] for p in listed} == {"empty": 0, "one": 1, "three": 3}
    assert {p["slug"]: p["summary"]["implemented_event_count"] for p in listed} == {
        "empty": 0,
        "one": 1,
        "three": 3,
    }
    assert listed[0]["summary"]["event_type_count"] == 0

    for n in range(10):
        project = new_project(owner, f"more-{n}")
        make_event(context, make_event_type(context, project["id"], "t")[0], "e")
        assert main_branch_id(context, project["id"])
    with count_statements(context) as many:
        assert len(owner.get("/api/v1/projects").json()) == 13
    assert len(many) == len(few)
