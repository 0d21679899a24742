"""`tripl-server demo` and `serve --demo`: the demo project without the web UI."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tripl.cli import _offer_demo, main
from tripl.config import Settings
from tripl.core.context import build_context
from tripl.models import Base
from tripl.plan.events.models import Event
from tripl.plan.projects.models import Project

PASSWORD = "long enough pass"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("TRIPL_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("TRIPL_DATA_DIR", str(tmp_path))
    assert main(["migrate"]) == 0
    # Tables of areas newer than the last migration (the test suite builds schemas from the models).
    context = build_context(Settings())
    Base.metadata.create_all(context.db.engine)
    context.close()
    return tmp_path


def projects(data_dir: Path) -> list[tuple[str, int]]:
    context = build_context(Settings())
    try:
        with context.db.sessions() as db:
            rows = db.execute(
                select(Project.slug, func.count(Event.id))
                .outerjoin(Event, Event.project_id == Project.id)
                .group_by(Project.slug)
            ).all()
    finally:
        context.close()
    return [(slug, count) for slug, count in rows]


def test_demo_command_builds_the_project_for_an_existing_editor(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--email", "nobody@example.com"]) == 1
    assert "no account for nobody@example.com" in capsys.readouterr().err
    assert main(["create-user", "--email", "v@example.com", "--password", PASSWORD, "--role", "viewer"]) == 0
    assert main(["demo", "--email", "v@example.com"]) == 1
    assert "editor or owner" in capsys.readouterr().err
    assert projects(data_dir) == []

    assert main(["create-user", "--email", "Ed@example.com", "--password", PASSWORD, "--role", "editor"]) == 0
    assert main(["demo", "--email", "ed@example.com"]) == 0
    created = re.search(
        r"created the demo project '(demo-[0-9a-f]{6})' for ed@example.com", capsys.readouterr().out
    )
    assert created is not None
    [(slug, events)] = projects(data_dir)
    assert slug == created.group(1)
    assert events > 30  # discovered by the scan, not just the planned ones
    assert (data_dir / "warehouses" / f"{slug}.duckdb").is_file()


def test_serve_demo_builds_once_for_the_first_owner_and_otherwise_explains(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context = build_context(Settings())
    try:
        _offer_demo(context, "http://127.0.0.1:8000", build=True)
        out = capsys.readouterr().out
        assert "no account yet" in out
        assert "POST http://127.0.0.1:8000/api/v1/projects/demo" in out
        assert "tripl-server demo --email" in out

        assert (
            main(["create-user", "--email", "o@example.com", "--password", PASSWORD, "--role", "owner"]) == 0
        )
        capsys.readouterr()
        _offer_demo(context, "http://127.0.0.1:8000", build=True)
        assert "created the demo project" in capsys.readouterr().out
        assert len(projects(data_dir)) == 1

        # An instance that has projects is left alone and not lectured.
        _offer_demo(context, "http://127.0.0.1:8000", build=True)
        assert capsys.readouterr().out == ""
        assert len(projects(data_dir)) == 1
    finally:
        context.close()
