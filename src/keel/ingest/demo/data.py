"""The demo sources' data: one infinite, deterministic sequence per stream.

Position ``i`` (0, 1, 2, ...) of a stream's sequence is a record whose
``updated_at`` is ``BASE + i`` seconds, so the sequence is ordered by its
cursor and a cursor value names a position. Every tenth position
(``i % 10 == 9``) is an *update*: a new version of an earlier entity (same
``id``, newer ``updated_at``); the others create entity ``k = i - i // 10``,
created at position ``k + k // 9``. Everything is a pure function of
``(seed, source, stream, i)``: no state, no randomness.

Stable fields are drawn from the entity, mutable ones (a lifecycle stage, an
invoice status, a channel topic, an edited message) from the position.

A child's reference to its parent (contacts.company_id -> companies.id, ...)
picks an entity the parent's sequence created at or before the child
entity's own creation position, so whenever a parent stream has been read at
least as far as its child (same ``records_per_sync``, parents first, which
is how a read runs) the relationship holds.
"""

from __future__ import annotations

import datetime as dt
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from keel.ingest.demo import words as W

BASE_EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400
UPDATE_EVERY = 10
ORPHAN_BASE = 10**12  # entity numbers from here on never occur in a sequence
_M = (1 << 64) - 1

Record = dict[str, Any]


def _mix(x: int) -> int:
    """splitmix64's finaliser: a well-spread 64-bit hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & _M
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M
    return x ^ (x >> 31)


def salt(source: str, stream: str) -> int:
    return zlib.crc32(f"{source}.{stream}".encode())


def entities_before(position: int) -> int:
    """How many entities the positions before ``position`` created."""
    return position - position // UPDATE_EVERY


def created_at(entity: int) -> int:
    """The position that created ``entity``."""
    return entity + entity // (UPDATE_EVERY - 1)


def timestamp(seconds: int) -> str:
    """``BASE + seconds`` as ISO 8601 UTC (``2026-01-01T00:00:05Z``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(BASE_EPOCH + seconds))


def day(seconds: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(BASE_EPOCH + seconds))


def position_of(cursor: str) -> int:
    """The sequence position whose ``updated_at`` is ``cursor`` (-1 before the start)."""
    text = cursor.strip().replace("Z", "+00:00")
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return max(-1, int(moment.timestamp()) - BASE_EPOCH)


def _pick(options: Sequence[str], r: int) -> str:
    return options[r % len(options)]


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _slack_id(prefix: str, n: int) -> str:
    """Slack-shaped ids: a type letter and upper-case hex (``C0000002A``)."""
    return f"{prefix}{n:08X}"


def _phone(r: int) -> str:
    area = (212, 310, 415, 512, 617, 646, 720, 206, 305, 404)[r % 10]
    return f"+1 {area} 555 {(r >> 8) % 10000:04d}"


def _ssn(r: int) -> str:
    area = 1 + r % 899
    area = 667 if area == 666 else area
    return f"{area:03d}-{1 + (r >> 12) % 99:02d}-{1 + (r >> 24) % 9999:04d}"


def _company(r: int) -> str:
    return f"{_pick(W.COMPANY_WORDS, r)} {_pick(W.COMPANY_SUFFIXES, r >> 7)}"


def _company_domain(r: int) -> str:
    return f"{_slug(_pick(W.COMPANY_WORDS, r))}{(r >> 20) % 1000}.com"


def _text(templates: Sequence[str], r: int, sentences: int, topic: str) -> str:
    return " ".join(_pick(templates, _mix(r + n)).format(topic=topic) for n in range(sentences))


# Each maker gets the source data, the position, the entity, its creation position,
# and two hash bases: ``e`` (stable for the entity) and ``v`` (this version).
Maker = Callable[["SourceData", int, int, int, int, int], Record]

_IDS: dict[str, Callable[[int], str]] = {
    "gong.users": lambda k: str(3_100_000_000_000_000_000 + k),
    "gong.calls": lambda k: str(7_700_000_000_000_000_000 + k),
    "hubspot.companies": lambda k: str(5_000_000_000 + k),
    "hubspot.contacts": lambda k: str(100_000 + k),
    "hubspot.deals": lambda k: str(9_000_000_000 + k),
    "slack.channels": lambda k: _slack_id("C", k),
    "slack.users": lambda k: _slack_id("U", k),
    "netsuite.customers": lambda k: str(10_000 + k),
    "netsuite.employees": lambda k: str(500 + k),
    "netsuite.invoices": lambda k: f"INV{100_000 + k}",
}


class SourceData:
    """The record at any position of any stream of one demo source."""

    def __init__(self, source: str, seed: int) -> None:
        self.source = source
        self.seed = seed
        self._salts = {s: salt(source, s) for s in _STREAMS[source]}
        self._makers = _STREAMS[source]

    def streams(self) -> list[str]:
        return list(self._makers)

    def entity_hash(self, stream: str, n: int) -> int:
        """The hash base of entity (or, offset, version) ``n`` of ``stream``."""
        return _mix(_mix(self.seed ^ self._salts[stream]) ^ n)

    def entity(self, stream: str, position: int) -> int:
        """The entity position ``position`` creates or updates."""
        if position % UPDATE_EVERY == UPDATE_EVERY - 1:
            return self.entity_hash(stream, ~position) % entities_before(position)
        return entities_before(position)

    def id_of(self, stream: str, entity: int) -> str:
        return _IDS[f"{self.source}.{stream}"](entity)

    def record(self, stream: str, position: int, entity: int | None = None) -> Record:
        """The record at ``position``; ``entity`` overrides whose content it carries."""
        k = self.entity(stream, position) if entity is None else entity
        cp = created_at(min(k, entities_before(position + 1) - 1))
        e = self.entity_hash(stream, k)
        v = self.entity_hash(stream, position + (1 << 40))
        return self._makers[stream](self, position, k, cp, e, v)

    def ref_entity(self, parent: str, r: int, created: int) -> int:
        """A parent entity the parent's sequence created at or before position ``created``."""
        return r % entities_before(created + 1)

    def ref(self, parent: str, r: int, created: int) -> str:
        return self.id_of(parent, self.ref_entity(parent, r, created))


def _gong_users(d: SourceData, i: int, k: int, cp: int, e: int, v: int) -> Record:
    first, last = _pick(W.FIRST_NAMES, e), _pick(W.LAST_NAMES, e >> 8)
    return {
        "id": d.id_of("users", k),
        "email": f"{first}.{last}.{k}@northwind-sales.com".lower(),
        "first_name": first,
        "last_name": last,
        "title": _pick(W.TITLES, e >> 16),
        "active": v % 10 != 0,
        "updated_at": timestamp(i),
    }


def _gong_calls(d: SourceData, i: int, k: int, cp: int, e: int, v: int) -> Record:
    company, topic = _pick(W.COMPANY_WORDS, e), _pick(W.CALL_TOPICS, e >> 8)
    rep, buyer = _pick(W.FIRST_NAMES, e >> 16), _pick(W.FIRST_NAMES, e >> 24)
    turns = [
        f"{rep if n % 2 == 0 else buyer}: " + _text(W.SENTENCES, e + 97 * n, 2, topic)
        for n in range(12 + (e >> 32) % 30)
    ]
    return {
        "id": d.id_of("calls", k),
        "title": f"{company} <> Northwind: {topic}",
        "started_at": timestamp(cp - (e >> 40) % (30 * DAY)),
        "duration_seconds": 120 + (e >> 4) % 3600,
        "direction": ("Outbound", "Inbound", "Conference", "Unknown")[(e >> 12) % 4],
        "primary_user_id": d.ref("users", e >> 20, cp),
        "transcript": "\n".join(turns),
        "updated_at": timestamp(i),
    }


def _hubspot_companies(d: SourceData, i: int, k: int, cp: int, e: int, v: int) -> Record:
    return {
        "id": d.id_of("companies", k),
        "name": _company(e),
        "domain": _company_domain(e),
        "industry": _pick(W.INDUSTRIES, e >> 30),
        "annual_revenue": float(100_000 + (v >> 8) % 500_000_000),
        "updated_at": timestamp(i),
    }


def _hubspot_contacts(d: SourceData, i: int, k: int, cp: int, e: int, v: int) -> Record:
    first, last = _pick(W.FIRST_NAMES, e), _pick(W.LAST_NAMES, e >> 8)
    company = d.ref_entity("companies", e >> 16, cp)
    domain = _company_domain(d.entity_hash("companies", company))
    return {
        "id": d.id_of("contacts", k),
        "email": f"{first}.{last}{k % 1000}@{domain}".lower(),
        "first_name": first,
        "last_name": last,
        "phone": _phone(e >> 24),
        "company_id": d.id_of("companies", company),
        "lifecycle_stage": _pick(_STAGES, v),
        "updated_at": timestamp(i),
    }


_STAGES = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
    "customer", "evangelist", "other",
)  # fmt: skip
_DEAL_STAGES = (
    "appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
    "contractsent", "closedwon", "closedlost",
)  # fmt: skip


def _hubspot_deals(d: SourceData, i: int, k: int, cp: int, e: int, v: int) -> Record:
    return {
        "id": d.id_of("deals", k),
        "deal_name": f"{_pick(W.COMPANY_WORDS, e)} - {_pick(W.CALL_TOPICS, e >> 8)}",
        "amount": round(1_000 + ((e >> 16) % 25_000_000) / 100, 2),
        "deal_stage": _pick(_DEAL_STAGES, v),
        "company_id": d.ref("companies", e >> 24, cp),
        "close_date": day(cp + (e >> 40) % (180 * DAY)),
        "updated_at": timestamp(i),
    }


def _slack_channels(d: SourceData, i: int, k: int, cp: int, e: int, v: int) -> Record:
    return {
        "id": d.id_of("channels", k),
        "name": f"{_pick(W.CHANNEL_NAMES, e)}-{k}",
        "is_private": e % 5 == 0,
        "topic": _pick(W.TOPICS, v),
        "updated_at": timestamp(i),
    }


def _slack_users(d: SourceData, i: int, k: int, cp: int, e: int, v: int) -> Record:
    first, last = _pick(W.FIRST_NAMES, e), _pick(W.LAST_NAMES, e >> 8)
    return {
        "id": d.id_of("users", k),
        "name": f"{first}.{last}{k}".lower(),
        "real_name": f"{first} {last}",
        "email": f"{first}.{last}.{k}@northwind.io".lower(),
        "is_bot": e % 20 == 0,
        "updated_at": timestamp(i),
    }


def _slack_messages(d: SourceData, i: int, k: int, cp: int, e: int, v: int) -> Record:
    topic = _pick(W.CALL_TOPICS, e >> 8)
    channel = d.ref("channels", e >> 16, cp)
    return {
        "id": f"{channel}-{BASE_EPOCH + cp}.{k % 1_000_000:06d}",
        "channel_id": channel,
        "user_id": d.ref("users", e >> 32, cp),
        "text": _text(W.MESSAGES, v, 1 + (e >> 4) % 3, topic),
        "sent_at": timestamp(cp),
        "updated_at": timestamp(i),
    }


def _netsuite_customers(d: SourceData, i: int, k: int, cp: int, e: int, v: int) -> Record:
    return {
        "id": d.id_of("customers", k),
        "company_name": _company(e),
        "email": f"billing@{_company_domain(e)}",
        "phone": _phone(e >> 24),
        "status": ("customer", "prospect", "lead", "closed")[v % 4],
        "updated_at": timestamp(i),
    }


def _netsuite_employees(d: SourceData, i: int, k: int, cp: int, e: int, v: int) -> Record:
    first, last = _pick(W.FIRST_NAMES, e), _pick(W.LAST_NAMES, e >> 8)
    return {
        "id": d.id_of("employees", k),
        "first_name": first,
        "last_name": last,
        "email": f"{first}.{last}.{k}@northwind.com".lower(),
        "department": _pick(W.DEPARTMENTS, v),
        "ssn": _ssn(e >> 16),
        "hire_date": day(cp - _mix(e + 7) % (3650 * DAY)),
        "updated_at": timestamp(i),
    }


def _netsuite_invoices(d: SourceData, i: int, k: int, cp: int, e: int, v: int) -> Record:
    return {
        "id": d.id_of("invoices", k),
        "customer_id": d.ref("customers", e >> 16, cp),
        "tran_date": day(cp),
        "amount": round(50 + ((e >> 24) % 5_000_000) / 100, 2),
        "currency": ("USD", "USD", "USD", "EUR", "GBP")[(e >> 8) % 5],
        "status": ("open", "paid", "paid", "voided")[v % 4],
        "updated_at": timestamp(i),
    }


_STREAMS: dict[str, dict[str, Maker]] = {
    "gong": {"users": _gong_users, "calls": _gong_calls},
    "hubspot": {
        "companies": _hubspot_companies,
        "contacts": _hubspot_contacts,
        "deals": _hubspot_deals,
    },
    "slack": {"channels": _slack_channels, "users": _slack_users, "messages": _slack_messages},
    "netsuite": {
        "customers": _netsuite_customers,
        "employees": _netsuite_employees,
        "invoices": _netsuite_invoices,
    },
}
