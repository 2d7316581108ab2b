"""Deals: the sales opportunities whose outcomes (won, lost, open) win patterns are learnt from.

A deal is known by its id in a source system, ``(source, external_id)``, as a customer is. Deals come from three
places:

* an upload (or a later correction of a call's deal) naming a deal id that is not known yet creates the deal,
  open, under the source ``import`` (or the source named as ``source:id``), linked to the call's customer when
  known (:func:`ensure_deal`); a later deal import claims it, whatever its source;
* a deal file (CSV, CSV.gz, Parquet; :func:`import_deals`): columns found by their usual English and Japanese names
  (商談ID, 顧客ID, 商談名, フェーズ, 金額, 通貨, 受注/失注, 完了日 …), outcomes read from what CRMs export (won,
  Closed Won, 受注, 失注, 商談中, an IsWon column's true/false). Importing a file again updates deals in place;
* an edit (:func:`update_deal`, :func:`create_deal`), audited.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine
from sqlmodel import Session

from insight import audit
from insight.crm_sync.tabular import (
    DEFAULT_SOURCE,
    BatchReader,
    ImportOptions,
    RowError,
    cell_datetime,
    cell_ident,
    cell_number,
    find_columns,
    short_value,
)
from insight.db import session_scope
from insight.errors import InvalidImport, InvalidRequest, NotFound
from insight.repositories import customers as customers_repo
from insight.repositories.calls import CallVisibility
from models import Deal, DealOutcome
from models.base import utcnow

log = logging.getLogger(__name__)

# Deals named at upload without a source, and deal files imported without one, share this source: the deal a call
# created is the one the file updates.
DEAL_SOURCE = DEFAULT_SOURCE
CREATED_FROM_CALL = "call"  # properties["created_from"] of a deal an upload created

FIELDS: tuple[str, ...] = ("deal", "customer", "name", "stage", "amount", "currency", "outcome", "closed_at", "owner")

# The usual names of each field's column in English and Japanese (matched ignoring case, width and separators).
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    name: tuple(names.split())
    for name, names in {
        "deal": "deal_id deal_external_id opportunity_id deal_no deal_number deal_code opportunity deal "
        "商談ID 案件ID 商談番号 案件番号 商談コード 案件コード",
        "customer": "customer_id customer_external_id account_id customer client_id company_id customer_no customer "
        "account 顧客ID 顧客番号 顧客コード 取引先ID 取引先コード 得意先コード 会社ID 顧客",
        "name": "deal_name opportunity_name name title 商談名 案件名 件名",
        "stage": "stage stage_name phase deal_stage 商談フェーズ フェーズ ステージ 商談ステージ 段階",
        "amount": "amount deal_amount value total 金額 商談金額 受注金額 見込金額 見積金額 合計金額",
        "currency": "currency currency_code currency_iso_code 通貨 通貨コード",
        "outcome": "outcome result status is_won iswon won win_loss 受注失注 結果 商談結果 受注 勝敗 ステータス",
        "closed_at": "closed_at close_date closed_date closedate closed_on won_date 完了日 クローズ日 受注日 成約日 "
        "失注日 終了日 完了日時",
        "owner": "owner owner_name deal_owner sales_rep rep 担当者 営業担当 担当営業 担当",
    }.items()
}

_WON = {"won", "win", "closed won", "受注", "受注済", "受注済み", "成約", "成約済み", "勝ち", "成立"}
_LOST = {"lost", "loss", "lose", "closed lost", "失注", "失注済み", "不成立", "負け", "見送り", "不採用"}
_OPEN = {
    "open",
    "in progress",
    "pending",
    "active",
    "商談中",
    "進行中",
    "検討中",
    "提案中",
    "交渉中",
    "未完了",
    "オープン",
}
_TRUE = {"true", "yes", "y", "1", "t", "はい"}
_FALSE = {"false", "no", "n", "0", "f", "いいえ"}
OUTCOME_HINT = "won/lost/open, closed won/closed lost, 受注/失注/商談中, or true/false (an IsWon column)"


def _words(value: str) -> str:
    text = unicodedata.normalize("NFKC", value).casefold().strip()
    return re.sub(r"[\s_\-]+", " ", text)


def parse_outcome(value: Any, *, closed: bool = False) -> DealOutcome:
    """A deal's outcome from what a CRM export or a user says.

    Args:
        value: ``won``/``lost``/``open``, ``Closed Won``/``Closed Lost``, 受注/失注/商談中 …, or a boolean (an IsWon
            column: true is won; false is lost once the deal is closed, else open).
        closed: whether the deal has a close date (decides what an IsWon false means).

    Raises:
        ValueError: not an outcome.
    """
    if isinstance(value, bool):
        won = value
    else:
        text = _words(str(value))
        if text in _WON:
            return DealOutcome.won
        if text in _LOST:
            return DealOutcome.lost
        if text in _OPEN:
            return DealOutcome.open
        if text not in _TRUE | _FALSE:
            raise ValueError(f"not an outcome ({OUTCOME_HINT})")
        won = text in _TRUE
    if won:
        return DealOutcome.won
    return DealOutcome.lost if closed else DealOutcome.open


def outcome_of_stage(stage: str | None) -> DealOutcome | None:
    """The outcome a stage name says by itself (``Closed Won``, 受注, 失注 …), else None."""
    if stage is None:
        return None
    text = _words(stage)
    if text in _WON:
        return DealOutcome.won
    if text in _LOST:
        return DealOutcome.lost
    return None


def split_ref(ref: str) -> tuple[str | None, str]:
    """A deal reference as given at upload: ``source:id`` names the source, a bare id does not."""
    ref = ref.strip()
    if ":" in ref:
        source, _, external_id = ref.partition(":")
        if source.strip() and external_id.strip():
            return source.strip()[:64], external_id.strip()
    return None, ref


# --- one deal ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DealAccess:
    """Which deals a reader reaches: every deal (``everything``), or those of the calls ``calls`` allows: a call's
    deal and the deals of a call's customer (``insight.auth.policy`` decides it for a principal).
    """

    everything: bool = False
    calls: CallVisibility = field(default_factory=CallVisibility)

    @property
    def visibility(self) -> CallVisibility | None:
        """The call filter the deal queries apply (None: every deal)."""
        return None if self.everything else self.calls


EVERY_DEAL = DealAccess(everything=True)


@dataclass(frozen=True)
class DealChanges:
    """A deal's new values; ``None`` leaves a field alone, an empty text clears it.

    ``customer_external_id`` links the deal to the customer with this id (``source:id`` or a bare id known in one
    source); ``outcome`` takes the forms :func:`parse_outcome` reads; ``closed_at`` must carry a time zone.
    """

    name: str | None = None
    stage: str | None = None
    outcome: str | None = None
    amount: float | None = None
    currency: str | None = None
    closed_at: datetime | None = None
    owner: str | None = None
    customer_external_id: str | None = None

    def is_empty(self) -> bool:
        """True when nothing would change."""
        return all(getattr(self, f.name) is None for f in fields(self))


def get_deal(session: Session, deal_id: int, *, access: DealAccess = EVERY_DEAL) -> Deal:
    """The deal with this id, if ``access`` reaches it.

    Raises:
        NotFound: no such deal, or one the reader may not see (the same answer, so ids reveal nothing).
    """
    deal = customers_repo.get_deal(session, deal_id)
    if deal is None or not (
        access.everything or customers_repo.deal_visible(session, deal_id, visibility=access.visibility)
    ):
        raise NotFound(
            f"Deal {deal_id} does not exist.",
            hint="List deals with GET /api/deals (`insight deals list`).",
            object_type="deal",
            object_id=deal_id,
        )
    return deal


def find_deal(session: Session, ref: str) -> Deal | None:
    """The deal a reference names: ``source:id``, else a bare external id held by exactly one deal, else a number
    that is a deal's own id.
    """
    source, external_id = split_ref(ref)
    if source is not None:
        deal = customers_repo.get_deal_by_external_id(session, source=source, external_id=external_id)
        if deal is not None:
            return deal
    deal = customers_repo.resolve_deal(session, ref.strip())
    if deal is None and ref.strip().isdigit():
        deal = customers_repo.get_deal(session, int(ref.strip()))
    return deal


def list_deals(
    session: Session,
    *,
    access: DealAccess = EVERY_DEAL,
    customer_id: int | None = None,
    outcome: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[Deal], int]:
    """A page of the deals ``access`` reaches, newest first, with their total.

    Raises:
        InvalidRequest: an unknown outcome.
    """
    if outcome is not None:
        outcome = _checked_outcome(outcome).value
    return customers_repo.list_deals(
        session, visibility=access.visibility, customer_id=customer_id, outcome=outcome, offset=offset, limit=limit
    )


def ensure_deal(session: Session, ref: str, *, customer_id: int | None) -> Deal:
    """The deal an upload (or a correction of a call) names, created open when it does not exist yet.

    A bare id is looked up in every source (known in exactly one: that deal); otherwise the deal is created under
    ``DEAL_SOURCE`` (or the source of ``source:id``) and marked as created from a call, so that a later import from
    any source takes it over instead of duplicating it. A deal without a customer gets the call's.
    """
    deal = find_deal(session, ref)
    if deal is None:
        source, external_id = split_ref(ref)
        deal, _ = customers_repo.upsert_deal(
            session,
            source=source or DEAL_SOURCE,
            external_id=external_id[:255],
            values={
                "customer_id": customer_id,
                "outcome": DealOutcome.open.value,
                "properties": {"created_from": CREATED_FROM_CALL},
            },
        )
        log.info("deal %s created from a call (customer %s)", deal.id, customer_id)
    elif deal.customer_id is None and customer_id is not None:
        customers_repo.upsert_deal(
            session, source=deal.source, external_id=deal.external_id, values={"customer_id": customer_id}
        )
    return deal


def _checked_outcome(value: str, *, closed: bool = False) -> DealOutcome:
    try:
        return parse_outcome(value, closed=closed)
    except ValueError:
        raise InvalidRequest(
            f"{value!r} is not a deal outcome.", hint=f"Use {OUTCOME_HINT}.", code="invalid_deal"
        ) from None


def _values(session: Session, deal: Deal | None, changes: DealChanges) -> dict[str, Any]:
    """The column values ``changes`` set, checked."""
    values: dict[str, Any] = {}
    for name, limit in (("name", 255), ("stage", 64), ("owner", 255)):
        text = getattr(changes, name)
        if text is not None:
            values[name] = text.strip()[:limit] or None
    if changes.currency is not None:
        currency = changes.currency.strip().upper()
        if currency and (len(currency) != 3 or not currency.isalpha()):
            raise InvalidRequest(
                f"{changes.currency!r} is not an ISO 4217 currency.", hint="e.g. JPY, USD, EUR.", code="invalid_deal"
            )
        values["currency"] = currency or None
    if changes.amount is not None:
        if changes.amount != changes.amount or abs(changes.amount) >= 1e14:
            raise InvalidRequest("The amount is not a usable number.", hint="e.g. 1200000", code="invalid_deal")
        values["amount"] = round(changes.amount, 4)
    if changes.closed_at is not None:
        if changes.closed_at.tzinfo is None:
            raise InvalidRequest(
                "closed_at has no time zone.",
                hint="e.g. 2026-11-30T10:00:00+09:00 or 2026-11-30T01:00:00Z.",
                code="invalid_deal",
            )
        values["closed_at"] = changes.closed_at.astimezone(UTC)
    if changes.outcome is not None:
        closed = values.get("closed_at", deal.closed_at if deal is not None else None) is not None
        values["outcome"] = _checked_outcome(changes.outcome, closed=closed).value
        if values["outcome"] != DealOutcome.open and "closed_at" not in values and (deal is None or not deal.closed_at):
            values["closed_at"] = utcnow()  # a deal decided now closed now, unless told when
    if changes.customer_external_id is not None:
        ref = changes.customer_external_id.strip()
        if not ref:
            values["customer_id"] = None
        else:
            customer_id = customers_repo.resolve_external_id(session, ref)
            if customer_id is None:
                raise NotFound(
                    f"No customer is known as {ref!r} (or several are: name the source as source:id).",
                    hint="Import the customer first, or use the id it has in one source (source:id).",
                    object_type="customer",
                    object_id=ref,
                )
            values["customer_id"] = customer_id
    return values


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def create_deal(
    engine: Engine, *, external_id: str, source: str = DEAL_SOURCE, changes: DealChanges, actor: audit.Actor
) -> Deal:
    """Create a deal (open unless ``changes`` says otherwise), audited.

    Raises:
        InvalidRequest: a bad value, an empty id, or a deal that exists already (code ``deal_exists``).
        NotFound: an unknown customer.
    """
    external_id, source = external_id.strip(), source.strip()
    if not external_id or not source or len(external_id) > 255 or len(source) > 64:
        raise InvalidRequest(
            "A deal needs an id (up to 255 characters) and a source (up to 64).",
            hint="e.g. external_id=D-1001, source=salesforce",
            code="invalid_deal",
        )
    with session_scope(engine) as session:
        if customers_repo.get_deal_by_external_id(session, source=source, external_id=external_id) is not None:
            raise InvalidRequest(
                f"Deal {source}:{external_id} exists already.", hint="Change it instead.", code="deal_exists"
            )
        values = _values(session, None, changes)
        deal, _ = customers_repo.upsert_deal(session, source=source, external_id=external_id, values=values)
        customers_repo.link_calls(session)
        audit.record(
            session,
            actor,
            audit.Action.deal_create,
            object_type="deal",
            object_id=deal.id,
            details={"source": source, "external_id": external_id, **_shown(values)},
        )
    return deal


def update_deal(
    engine: Engine, deal_id: int, changes: DealChanges, *, actor: audit.Actor, access: DealAccess = EVERY_DEAL
) -> Deal:
    """Change a deal's outcome, stage, amount, close date, owner, name or customer; audited with the old and new
    values of what changed.

    Raises:
        NotFound: no such deal (or one ``access`` does not reach), or an unknown customer.
        InvalidRequest: a bad value.
    """
    with session_scope(engine) as session:
        deal = get_deal(session, deal_id, access=access)
        values = _values(session, deal, changes)
        changed = {k: v for k, v in values.items() if getattr(deal, k) != v}
        if changed:
            before = {k: getattr(deal, k) for k in changed}
            deal, _ = customers_repo.upsert_deal(
                session, source=deal.source, external_id=deal.external_id, values=changed
            )
            audit.record(
                session,
                actor,
                audit.Action.deal_update,
                object_type="deal",
                object_id=deal_id,
                details={"before": _shown(before), "after": _shown(changed)},
            )
    return deal


# --- deal files ---------------------------------------------------------------------------------------------------


@dataclass
class DealImportReport:
    """What a deal import read and did: rows inserted, updated, unchanged (the same values stored already) and
    rejected (each with its row number, column, value and reason; the others are imported).
    """

    file: str
    source: str
    customer_source: str
    file_format: str
    encoding: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    customers_created: int = 0
    calls_linked: int = 0
    missing_columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    errors_truncated: bool = False
    committed: bool = False
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The report as a dict of plain values, for JSON output and the API."""
        return asdict(self)

    def reject(self, error: RowError, limit: int) -> None:
        """Count a rejected row and list it (up to ``limit`` rows)."""
        self.rejected += 1
        if len(self.errors) < limit:
            self.errors.append(error)
        else:
            self.errors_truncated = True


class _DealReader(BatchReader):
    """The transaction reader, loading of a Parquet file the columns of deal fields."""

    def wanted_columns(self) -> list[str]:
        mapping = find_columns(self.columns, COLUMN_NAMES, self.options.mapping)
        return sorted({c for c in mapping.values() if c in self.columns}, key=self.columns.index)


@dataclass(frozen=True)
class _Row:
    row: int
    deal: str
    customer: str | None
    values: dict[str, Any]


class _RowReader:
    """Cells to a deal's values, or a ``RowError``."""

    def __init__(self, options: ImportOptions, mapping: dict[str, str], columns: list[str], *, ragged: bool) -> None:
        self.options = options
        self.mapping = mapping
        self.index = {name: columns.index(column) for name, column in mapping.items() if column in columns}
        self.width = len(columns)
        self.ragged = ragged
        try:
            self.tz: tzinfo = UTC if options.timezone.upper() == "UTC" else ZoneInfo(options.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidImport(
                f"Unknown time zone {options.timezone!r}.",
                hint="Use an IANA name such as Asia/Tokyo.",
                code="invalid_timezone",
            ) from exc

    def _cell(self, cells: list[Any], name: str) -> Any:
        i = self.index.get(name, -1)
        return cells[i] if 0 <= i < len(cells) else None

    def _error(self, row: int, name: str, value: Any, reason: str) -> RowError:
        return RowError(row, self.mapping.get(name), short_value(value), reason)

    def parse(self, row: int, cells: list[Any]) -> _Row | RowError:
        if self.ragged and len(cells) != self.width:
            return RowError(row, None, short_value(cells), f"expected {self.width} columns, found {len(cells)}")
        deal = cell_ident(self._cell(cells, "deal"))
        if deal is None:
            return self._error(row, "deal", None, "missing deal id")
        customer = cell_ident(self._cell(cells, "customer"))
        for name, value in (("deal", deal), ("customer", customer)):
            if value is not None and len(value) > 255:
                return self._error(row, name, value, "longer than 255 characters")
        values: dict[str, Any] = {}
        for name, limit in (("name", 255), ("stage", 64), ("owner", 255)):
            if name in self.index:
                text = cell_ident(self._cell(cells, name))
                values[name] = None if text is None else text[:limit]
        if "amount" in self.index:
            raw = self._cell(cells, "amount")
            try:
                amount = cell_number(raw)
            except ValueError as exc:
                return self._error(row, "amount", raw, str(exc))
            values["amount"] = None if amount is None else round(amount, 4)
        currency = cell_ident(self._cell(cells, "currency"))
        if currency is not None:
            currency = currency.upper()
            if len(currency) != 3 or not currency.isalpha():
                return self._error(row, "currency", currency, "not an ISO 4217 currency")
            values["currency"] = currency
        elif self.options.currency is not None:
            values["currency"] = self.options.currency.upper()
        elif "currency" in self.index:
            values["currency"] = None
        if "closed_at" in self.index:
            raw = self._cell(cells, "closed_at")
            try:
                closed_at = cell_datetime(raw, self.tz)
            except ValueError as exc:
                return self._error(row, "closed_at", raw, str(exc))
            values["closed_at"] = None if closed_at is None else closed_at.replace(tzinfo=UTC)
        raw_outcome = self._cell(cells, "outcome")
        if isinstance(raw_outcome, str):
            raw_outcome = raw_outcome.strip() or None
        if raw_outcome is not None:
            try:
                values["outcome"] = parse_outcome(raw_outcome, closed=values.get("closed_at") is not None).value
            except ValueError as exc:
                return self._error(row, "outcome", raw_outcome, str(exc))
        else:
            from_stage = outcome_of_stage(values.get("stage"))
            if from_stage is not None:
                values["outcome"] = from_stage.value
            elif "outcome" in self.index:
                values["outcome"] = DealOutcome.open.value  # a blank outcome: still open
        return _Row(row, deal, customer, values)


def import_deals(
    engine: Engine, path: Path, options: ImportOptions, *, actor: audit.Actor = audit.SYSTEM
) -> DealImportReport:
    """Import a deal file (CSV, CSV.gz or Parquet): insert new deals, update changed ones, skip bad rows.

    Columns are found by their usual names (``COLUMN_NAMES``) unless ``options.mapping`` names them (fields:
    ``FIELDS``). A deal is ``(source, deal id)`` (source: ``options.source``, default ``import``); importing the
    file again changes nothing. A customer id is looked up in ``options.customer_source`` (default: the source,
    then any one source that knows it) and created there when unknown. Calls naming the deals are linked.

    Raises:
        InvalidImport: the file is unreadable or empty, the mapping names unknown fields, or no deal id column
            was found (``exc.report`` says which columns the file has). Bad rows do not raise: they are reported.
    """
    started = time.monotonic()
    unknown = sorted(set(options.mapping) - set(FIELDS))
    if unknown:
        raise InvalidImport(
            f"Unknown deal field(s) in the mapping: {', '.join(unknown)}.",
            hint=f"Map columns to: {', '.join(FIELDS)}.",
            code="invalid_mapping",
        )
    source = (options.source or DEAL_SOURCE)[:64]
    report = DealImportReport(
        file=path.name,
        source=source,
        customer_source=(options.customer_source or source)[:64],
        file_format="csv",
    )
    reader = _DealReader(path, options)
    report.file_format = reader.format
    rows: list[_Row] = []
    parser: _RowReader | None = None
    row_no = 0
    first_row: dict[str, int] = {}
    for batch in reader.batches():
        if parser is None:
            report.encoding = reader.encoding
            mapping = find_columns(reader.columns, COLUMN_NAMES, options.mapping)
            report.columns = dict(mapping)
            report.missing_columns = [f"{c} (for {n})" for n, c in mapping.items() if c not in reader.columns]
            if "deal" not in mapping:
                report.missing_columns.append("no column for deal")
            if report.missing_columns:
                shown = ", ".join(reader.columns[:20])
                raise InvalidImport(
                    f"{path.name} lacks column(s): {'; '.join(report.missing_columns)}. Its columns: {shown}. "
                    "Nothing was imported.",
                    hint="Name the deal id column: --map deal=COLUMN (API: mapping). Recognised by themselves: "
                    "deal_id, opportunity_id, 商談ID, 案件ID …",
                    code="missing_columns",
                    report=report,
                )
            parser = _RowReader(options, mapping, reader.columns, ragged=reader.format != "parquet")
        for cells in batch:
            row_no += 1
            parsed = parser.parse(row_no, cells)
            if isinstance(parsed, RowError):
                report.reject(parsed, options.max_errors)
                continue
            if parsed.deal in first_row:
                report.reject(
                    RowError(
                        row_no, parser.mapping["deal"], parsed.deal, f"deal id repeats row {first_row[parsed.deal]}"
                    ),
                    options.max_errors,
                )
                continue
            first_row[parsed.deal] = row_no
            rows.append(parsed)
    report.rows_read = row_no
    if parser is None or row_no == 0:
        raise InvalidImport(
            f"{path.name} has no rows. Nothing was imported.", hint="Check the file.", code="empty_file", report=report
        )
    with session_scope(engine) as session:
        _store(session, rows, report, customer_source_given=options.customer_source is not None)
        report.calls_linked = customers_repo.link_calls(session)
        report.committed = True
        report.duration_s = round(time.monotonic() - started, 3)
        audit.record(
            session,
            actor,
            audit.Action.deal_import,
            object_type="import",
            object_id=path.name,
            details={
                "source": report.source,
                "inserted": report.inserted,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": report.rejected,
            },
        )
    log.info(
        "imported deals from %s: %d rows, %d inserted, %d updated, %d unchanged, %d rejected",
        path.name,
        report.rows_read,
        report.inserted,
        report.updated,
        report.unchanged,
        report.rejected,
    )
    return report


def _store(session: Session, rows: list[_Row], report: DealImportReport, *, customer_source_given: bool) -> None:
    """Insert, update or leave each deal; customers are found (or created) by their ids in the file.

    Deals and customers are looked up in chunks, not row by row: a file of thousands of deals is read in a few
    queries, and only changed deals are written.
    """
    customers = _customer_ids(session, rows, report, given=customer_source_given)
    sources = sorted({report.source, DEAL_SOURCE})
    stored = customers_repo.deals_in_source(session, sources=sources, external_ids=[r.deal for r in rows])
    new: list[Deal] = []
    for row in rows:
        values = dict(row.values)
        if row.customer is not None:
            values["customer_id"] = customers[row.customer]
        deal = stored.get((report.source, row.deal))
        if deal is None and report.source != DEAL_SOURCE:
            # A deal an upload created before the file came: the file's source takes it over.
            provisional = stored.get((DEAL_SOURCE, row.deal))
            if provisional is not None and provisional.properties.get("created_from") == CREATED_FROM_CALL:
                deal = provisional
                values["source"] = report.source
        if deal is None:
            values.setdefault("outcome", DealOutcome.open.value)
            new.append(Deal(source=report.source, external_id=row.deal, **values))
            report.inserted += 1
        else:
            changed = {k: v for k, v in values.items() if getattr(deal, k) != v}
            if deal.properties.get("created_from") == CREATED_FROM_CALL:
                changed["properties"] = {k: v for k, v in deal.properties.items() if k != "created_from"}
            if changed:
                for key, value in changed.items():
                    setattr(deal, key, value)
                deal.updated_at = utcnow()
                session.add(deal)
                report.updated += 1
            else:
                report.unchanged += 1
        outcome = str(values.get("outcome") or (deal.outcome if deal is not None else DealOutcome.open.value))
        report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
    customers_repo.add_deals(session, new)


def _customer_ids(session: Session, rows: list[_Row], report: DealImportReport, *, given: bool) -> dict[str, int]:
    """The customer id of every customer id in the file: known in the customer source; else (without a customer
    source given) known in exactly one other source, as for calls; else a customer created in the customer source.
    """
    wanted = sorted({r.customer for r in rows if r.customer is not None})
    found = customers_repo.customer_ids_by_external_id(session, source=report.customer_source, external_ids=wanted)
    missing = [x for x in wanted if x not in found]
    if missing and not given:
        found.update(customers_repo.customer_ids_in_one_source(session, missing))
        missing = [x for x in missing if x not in found]
    if missing:
        found.update(customers_repo.create_customers(session, source=report.customer_source, external_ids=missing))
        report.customers_created = len(missing)
    return found
