"""Our OpenAPI document against the shared API contract, for the tags implemented so far."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fastapi import FastAPI

CHECKER = Path(__file__).resolve().parents[2] / "shared" / "contract" / "check.py"
# Tags whose every operation exists (event-types lacks its drift operations until monitoring lands).
IMPLEMENTED_TAGS = [
    "projects",
    "scans",
    "auth",
    "users",
    "api-keys",
    "audit",
    "settings",
    "activity",
    "events",
    "fields",
    "event-type-owners",
    "meta-fields",
    "relations",
    "variables",
    "event-photos",
]


# The scans issue asks for an additive `db_type` value; the checker compares enums exactly.
ADDED_DB_TYPE = (
    "enum ['bigquery', 'clickhouse', 'duckdb', 'postgres'] != ['bigquery', 'clickhouse', 'postgres']"
)


def check(app: FastAPI, tmp_path: Path, tags: list[str]) -> subprocess.CompletedProcess[str]:
    assert CHECKER.exists(), f"the contract checker is expected beside the repository at {CHECKER}"
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(app.openapi()))
    args = [sys.executable, str(CHECKER), "--openapi", str(spec)]
    for tag in tags:
        args += ["--tag", tag]
    return subprocess.run(args, capture_output=True, text=True, check=False)


def test_openapi_matches_the_contract(app: FastAPI, tmp_path: Path) -> None:
    result = check(app, tmp_path, IMPLEMENTED_TAGS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_data_sources_differ_only_by_the_added_duckdb_type(app: FastAPI, tmp_path: Path) -> None:
    result = check(app, tmp_path, ["data-sources"])
    assert "contract: 8/8 operations present" in result.stdout, result.stdout
    problems = [line for line in result.stdout.splitlines() if line.startswith("  - ")]
    assert problems and all(ADDED_DB_TYPE in line for line in problems), result.stdout
