from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from tripl.core.db import utcnow
from tripl.core.deps import Context, DbSession
from tripl.observe.data_sources import service
from tripl.observe.data_sources.schemas import (
    DataSourceCreate,
    DataSourceResponse,
    DataSourceSchemaResponse,
    DataSourceStatsResponse,
    DataSourceTestResponse,
    DataSourceUpdate,
)
from tripl.workspace.auth.deps import Owner, Viewer

router = APIRouter(prefix="/data-sources", tags=["data-sources"])


@router.get("", response_model=list[DataSourceResponse], summary="List Data Sources")
def list_data_sources(db: DbSession, ctx: Context, _: Viewer) -> list[DataSourceResponse]:
    return [service.to_response(ctx.cipher, ds) for ds in service.list_data_sources(db)]


@router.post(
    "",
    response_model=DataSourceResponse,
    status_code=status.HTTP_201_CREATED,
    summary="Create Data Source",
)
def create_data_source(
    body: DataSourceCreate, db: DbSession, ctx: Context, principal: Owner
) -> DataSourceResponse:
    data_source = service.create_data_source(db, ctx, principal.user, body.model_dump())
    return service.to_response(ctx.cipher, data_source)


@router.get("/{ds_id}", response_model=DataSourceResponse, summary="Get Data Source")
def get_data_source(ds_id: uuid.UUID, db: DbSession, ctx: Context, _: Viewer) -> DataSourceResponse:
    return service.to_response(ctx.cipher, service.get_data_source(db, ds_id))


@router.patch("/{ds_id}", response_model=DataSourceResponse, summary="Update Data Source")
def update_data_source(
    ds_id: uuid.UUID, body: DataSourceUpdate, db: DbSession, ctx: Context, principal: Owner
) -> DataSourceResponse:
    data_source = service.get_data_source(db, ds_id)
    data_source = service.update_data_source(
        db, ctx, principal.user, data_source, body.model_dump(exclude_unset=True)
    )
    return service.to_response(ctx.cipher, data_source)


@router.delete("/{ds_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete Data Source")
def delete_data_source(ds_id: uuid.UUID, db: DbSession, principal: Owner) -> Response:
    service.delete_data_source(db, principal.user, service.get_data_source(db, ds_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{ds_id}/stats", response_model=DataSourceStatsResponse, summary="Get Data Source Stats")
def get_data_source_stats(
    ds_id: uuid.UUID,
    db: DbSession,
    _: Viewer,
    window_hours: Annotated[int, Query(ge=1, le=720)] = 48,
) -> DataSourceStatsResponse:
    return service.stats(db, service.get_data_source(db, ds_id), window_hours)


@router.get("/{ds_id}/schema", response_model=DataSourceSchemaResponse, summary="Get Data Source Schema")
def get_data_source_schema(
    ds_id: uuid.UUID, db: DbSession, ctx: Context, _: Viewer
) -> DataSourceSchemaResponse:
    data_source = service.get_data_source(db, ds_id)
    db.commit()  # hold no database transaction while the warehouse answers
    return service.live_schema(ctx, data_source)


@router.post("/{ds_id}/test", response_model=DataSourceTestResponse, summary="Test Data Source Connection")
def test_data_source_connection(
    ds_id: uuid.UUID, db: DbSession, ctx: Context, principal: Owner
) -> DataSourceTestResponse:
    """Always 200 for an existing source: a failed connection is success=false with the reason."""
    data_source = service.get_data_source(db, ds_id)
    # End the request's transaction first: no write lock is held while waiting on the warehouse.
    db.commit()
    success, message = service.probe(ctx, data_source)
    tested_at = utcnow()
    with ctx.db.transaction() as tx:
        data_source = service.record_test(
            tx,
            principal.user,
            service.get_data_source(tx, ds_id),
            success=success,
            message=message,
            tested_at=tested_at,
        )
        response = service.to_response(ctx.cipher, data_source)
    return DataSourceTestResponse(success=success, message=message, tested_at=tested_at, data_source=response)
