"""Pages: the rows that record what was sent to a pager for an incident and what came of it.
Keyword-only `session=` (the caller's unit of work owns the transaction); answers are plain
`Page` values, writes are named for what happened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, literal, or_, select as core_select, update
from sqlmodel import Session, col, select

from bot.core.timeline import EntryKind
from bot.store.models import PageRow, TimelineRow


@dataclass(frozen=True)
class Page:
    id: int
    incident_id: int
    pager: str  # its kind
    kind: str  # event | incident | alert | responders
    key: str  # the pager's dedup key: what makes resending harmless
    service: str | None
    target: str
    requested_by: str | None
    status: str  # pending | triggered | acknowledged | resolved | failed
    pager_incident_id: str | None
    html_url: str | None
    created_at: datetime
    acknowledged_at: datetime | None


def _page(row: PageRow) -> Page:
    assert row.id is not None
    return Page(
        id=row.id,
        incident_id=row.incident_id,
        pager=row.pager,
        kind=row.kind,
        key=row.key,
        service=row.service,
        target=row.target,
        requested_by=row.requested_by,
        status=row.status,
        pager_incident_id=row.pager_incident_id,
        html_url=row.html_url,
        created_at=row.created_at,
        acknowledged_at=row.acknowledged_at,
    )


def record_page_requested(
    *,
    session: Session,
    incident_id: int,
    pager: str,
    kind: str,
    key: str,
    service: str | None,
    target: str,
    requested_by: str | None,
    now: datetime,
) -> Page:
    """A page to send (status `pending`); its effect sends it."""
    row = PageRow(
        incident_id=incident_id,
        pager=pager,
        kind=kind,
        key=key,
        service=service,
        target=target,
        requested_by=requested_by,
        status="pending",
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return _page(row)


def page(*, session: Session, page_id: int) -> Page | None:
    row = session.get(PageRow, page_id)
    return None if row is None else _page(row)


def pages_of(*, session: Session, incident_id: int) -> list[Page]:
    """In the order they were requested."""
    rows = session.exec(
        select(PageRow).where(PageRow.incident_id == incident_id).order_by(col(PageRow.id))
    ).all()
    return [_page(row) for row in rows]


_T = PageRow.__table__  # type: ignore[attr-defined]  # Core statements: no ORM bookkeeping
_P = _T.c
_LINES = (
    core_select(_P.service, _P.status, _P.html_url)
    .where(_P.incident_id == bindparam("incident_id"))
    .order_by(_P.id)
)


def page_lines(*, session: Session, incident_id: int) -> list[tuple[str | None, str, str | None]]:
    """What the incident's card shows of its pages: service, status, link (in order)."""
    rows = session.execute(_LINES, {"incident_id": incident_id})
    return [(service, status, url) for service, status, url in rows]


_PAGE_COLUMNS = [_P[name] for name in Page.__dataclass_fields__]


def record_page_landed(
    *,
    session: Session,
    page_id: int,
    now: datetime,
    pager_incident_id: str | None = None,
    html_url: str | None = None,
) -> Page:
    """The pager took the page (`triggered`), with its incident and link when it said them.
    One UPDATE … RETURNING: the page is not read again to be written."""
    values: dict[str, object] = {"status": "triggered", "updated_at": now}
    if pager_incident_id is not None:
        values["pager_incident_id"] = pager_incident_id
    if html_url is not None:
        values["html_url"] = html_url
    row = session.execute(
        update(_T).where(_P.id == page_id).values(**values).returning(*_PAGE_COLUMNS)
    ).one()
    return Page(**row._mapping)


def record_page_followed(*, session: Session, page_id: int, status: str, now: datetime) -> None:
    """An acknowledgement or resolution made here reached the pager for this page (the first
    acknowledgement's time is kept)."""
    values: dict[str, object] = {"status": status, "updated_at": now}
    if status == "acknowledged":
        values["acknowledged_at"] = func.coalesce(
            _P.acknowledged_at, literal(now, _P.acknowledged_at.type)
        )
    session.execute(update(_T).where(_P.id == page_id).values(**values))


def record_page_failed(*, session: Session, page_id: int, now: datetime) -> None:
    """The pager refused the page for good."""
    session.execute(update(_T).where(_P.id == page_id).values(status="failed", updated_at=now))


def page_heard_of(
    *,
    session: Session,
    pager: str,
    pager_incident_id: str | None,
    key: str | None,
    url: str | None,
) -> Page | None:
    """Our first page that a pager's event names (by the pager's incident or by our key); the
    pager's incident and link are noted on it when it had none yet."""
    clauses = []
    if pager_incident_id:
        clauses.append(col(PageRow.pager_incident_id) == pager_incident_id)
    if key:
        clauses.append(col(PageRow.key) == key)
    if not clauses:
        return None
    row = session.exec(
        select(PageRow).where(PageRow.pager == pager, or_(*clauses)).order_by(col(PageRow.id))
    ).first()
    if row is None:
        return None
    if row.pager_incident_id is None and pager_incident_id:
        row.pager_incident_id = pager_incident_id
        row.html_url = row.html_url or url
        session.add(row)
    return _page(row)


def record_pager_status(
    *,
    session: Session,
    pager: str,
    pager_incident_id: str,
    status: str,
    url: str | None,
    acknowledged_at: Callable[[datetime], datetime],
) -> None:
    """The pager says its incident is now `status`: every page of ours on it follows.
    `acknowledged_at(page_created_at)`: when a first acknowledgement counts from."""
    rows = session.exec(
        select(PageRow).where(
            PageRow.pager == pager, PageRow.pager_incident_id == pager_incident_id
        )
    ).all()
    for row in rows:
        row.status = status
        if status == "acknowledged" and row.acknowledged_at is None:
            row.acknowledged_at = acknowledged_at(row.created_at)
        if url and not row.html_url:
            row.html_url = url
        session.add(row)


def page_announced(*, session: Session, incident_id: int, page_id: int, prefix: str) -> bool:
    """Whether the timeline already says the page landed (an entry starting with `prefix`)."""
    said = session.exec(
        select(TimelineRow.data).where(
            TimelineRow.incident_id == incident_id,
            TimelineRow.kind == EntryKind.PAGE.value,
            col(TimelineRow.text).startswith(prefix),
        )
    ).all()
    return any(data.get("page_id") == page_id for data in said)
