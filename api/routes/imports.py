"""Import endpoints: upload a transaction file and get the import report."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.auth import ActorDep
from api.deps import RuntimeDep
from api.errors import error_body
from api.routing import Route
from api.schemas.calls import ErrorBody
from api.schemas.customers import ImportReportPublic
from insight import audit, telemetry
from insight.calls.service import check_filename
from insight.crm_sync.importer import ImportReport, import_transactions
from insight.crm_sync.tabular import ImportOptions
from insight.errors import InvalidImport

router = APIRouter(prefix="/api/imports", tags=["imports"], route_class=Route)


def _mapping(raw: str | None) -> dict[str, str]:
    """A JSON object ``{"customer": "CustomerID"}`` or ``customer=CustomerID,occurred_at=InvoiceDate``."""
    if raw is None or not raw.strip():
        return {}
    text = raw.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidImport(f"mapping is not valid JSON: {exc}", hint='e.g. {"customer": "CustomerID"}') from exc
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise InvalidImport("mapping must map field names to column names.", hint='e.g. {"customer": "CustomerID"}')
        return {str(k): v for k, v in value.items()}
    mapping: dict[str, str] = {}
    for part in text.split(","):
        field, sep, column = part.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise InvalidImport(f"mapping entry {part!r} is not FIELD=COLUMN.", hint="e.g. customer=CustomerID")
        mapping[field.strip()] = column.strip()
    return mapping


def _report_public(report: Any) -> dict[str, Any]:
    assert isinstance(report, ImportReport)
    return ImportReportPublic.model_validate(report.to_dict()).model_dump(mode="json")


@router.post(
    "/transactions",
    status_code=201,
    response_model=ImportReportPublic,
    responses={422: {"model": ErrorBody, "description": "Invalid file or rows; the body also has the report"}},
)
async def import_transactions_file(
    runtime: RuntimeDep,
    actor: ActorDep,
    file: Annotated[UploadFile, File(description="CSV, CSV.gz, whitespace-separated .txt or Parquet")],
    preset: Annotated[
        str | None, Form(description="online-retail (both UCI layouts; recognised by itself), cdnow or cdnow-sample")
    ] = None,
    mapping: Annotated[
        str | None, Form(description='{"customer": "CustomerID", ...} or customer=CustomerID,...')
    ] = None,
    source: Annotated[
        str | None, Form(max_length=64, description="default: the preset's name, else import (not the file name)")
    ] = None,
    customer_source: Annotated[str | None, Form(max_length=64)] = None,
    file_format: Annotated[str | None, Form(alias="format", pattern="^(csv|whitespace|parquet)$")] = None,
    header: Annotated[bool | None, Form()] = None,
    delimiter: Annotated[str | None, Form(max_length=1, description="default: detected")] = None,
    encoding: Annotated[
        str | None,
        Form(max_length=32, description="e.g. cp932; default: detected (UTF-8 with or without BOM, UTF-16, CP932)"),
    ] = None,
    date_format: Annotated[str | None, Form(max_length=64)] = None,
    timezone: Annotated[str | None, Form(max_length=64)] = None,
    currency: Annotated[str | None, Form(max_length=3)] = None,
    return_prefix: Annotated[str | None, Form(max_length=16)] = None,
) -> Any:
    """Import transactions: every row is validated; the file is imported whole or not at all. Rows imported before
    (by id, or by content from any file or format) are skipped and reported as already present.
    """
    name = check_filename(file.filename or "")
    try:
        options = ImportOptions.build(
            preset=preset,
            mapping=_mapping(mapping),
            source=source,
            customer_source=customer_source,
            file_format=file_format,
            header=header,
            delimiter=delimiter,
            encoding=encoding,
            date_format=date_format,
            timezone=timezone,
            currency=currency,
            return_prefix=return_prefix,
        )
        runtime.settings.tmp_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=runtime.settings.tmp_dir) as tmp:
            # Keep the uploaded name: the format is told by its extension.
            path = Path(tmp) / name
            with path.open("wb") as out:
                await run_in_threadpool(shutil.copyfileobj, file.file, out, 1024 * 1024)
            report = await run_in_threadpool(import_transactions, runtime.engine, path, options)
    except InvalidImport as exc:
        telemetry.record_sync_error("file_import", exc.code)
        audit.record_now(
            runtime.engine, actor, audit.Action.import_file, object_type="import", object_id=name, outcome="rejected"
        )
        body: dict[str, Any] = error_body(exc.code, exc.message, exc.hint)
        if exc.report is not None:
            body["report"] = _report_public(exc.report)
        return JSONResponse(body, status_code=422)
    audit.record_now(
        runtime.engine,
        actor,
        audit.Action.import_file,
        object_type="import",
        object_id=name,
        details={"source": report.source, "inserted": report.inserted, "rows_read": report.rows_read},
    )
    return _report_public(report)
