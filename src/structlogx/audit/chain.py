"""The hash chain: every entry's ``hash`` covers its content and the ``hash`` of the entry before.

Changing, deleting, inserting or reordering entries breaks the chain, and
:func:`verify_entries` finds the first place where it breaks. Shredding personal data keeps the
chain verifiable: every personal value is hashed on its own, with a salt, and a shredded value
leaves its digest behind (the salt is dropped, so a short value such as a phone number cannot be
found again by trying every candidate against the digest).

The scheme, byte for byte (version ``structlogx-chain-v2``):

``canonical(value)``
    ``json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":"),
    allow_nan=False)`` encoded as ASCII, after every string value (not the keys of objects,
    so that two keys stay two) is put in Unicode normalisation form NFC. Numbers are JSON
    numbers as Python writes them (an ``int`` in decimal, a ``float`` by ``repr``);
    timestamps are text, UTC, with microseconds: ``2026-12-01T08:27:21.123456+00:00``.
The **head** of an entry
    ``[timestamp, action, level, logger, actor_type, actor_id, object_type, object_id, scope,
    visible]``: what finds and classifies an entry, never shredded.
The **units** of an entry
    the personal values, each hashed on its own: ``message``, ``context``, ``data.<key>``
    for every top-level key of ``data``, and ``actor_text`` and ``object_text`` unless they
    are ``None``; taken in the order of their names (sorted by code point).
``salt(unit)``
    16 bytes of ``SHAKE-256(seed)``: the unit at (0-based) position ``i`` in that order
    takes bytes ``16 i`` to ``16 i + 15``. ``seed`` is 16 random bytes kept with the entry
    (as 32 hex digits). Shredding drops the seed and keeps the salts of the units it leaves
    in place.
``digest(unit)``
    ``SHA-256(salt || 0x00 || canonical(name) || 0x00 || canonical(value))``.
``content``
    ``SHA-256(canonical(head) || for each unit in order: 0x00 || canonical(name) || 0x00 ||
    digest(unit))``, hex; each digest is its 32 raw bytes.
``hash``
    ``SHA-256(ASCII("structlogx-chain-v2") || 0x00 || ASCII(prev_hash or "") || 0x00 ||
    ASCII(decimal id) || 0x00 || ASCII(content))``, hex. The first entry of a store has no
    ``prev_hash``; after :meth:`prune`, the first remaining entry links to the *anchor*, the
    id and hash of the last entry pruned.

A shredded unit's value becomes :data:`SHREDDED` and its digest (hex) is kept in the entry's
``shred`` record (``{"digests": {unit: digest}, "salts": {unit: salt hex}}``), so the content,
and the chain, stay the same.

Version 2 derives every salt of an entry from one SHAKE-256 call and hashes the digests into
the content as bytes: half the hash calls of version 1, and no JSON text built per entry.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final

from structlogx.audit.store import TEXT_COLUMNS, Query, as_utc, storable, timestamp_text
from structlogx.jsonsafe import compact_encoder, to_jsonable
from structlogx.records import AuditEntry, describe_actor

__all__ = [
    "PERSONAL_FIELDS",
    "SHREDDED",
    "VERSION",
    "Problem",
    "PrunePlan",
    "PruneReport",
    "ShredPlan",
    "ShredReport",
    "VerifyReport",
    "canonical",
    "check_fields",
    "content_digest",
    "link",
    "new_seed",
    "prepare",
    "seal",
    "shred_entry",
    "unit_names",
    "verify_entries",
]

VERSION: Final = "structlogx-chain-v2"
SHREDDED: Final = "[shredded]"
"""What a shredded value is replaced with."""

PERSONAL_FIELDS: Final = ("message", "actor_text", "object_text", "context")
"""The entry fields that are units of their own (with every ``data.<key>``): shreddable."""

_VERSION_BYTES: Final = VERSION.encode("ascii")


def _nfc(value: Any) -> Any:
    if type(value) is str:
        return value if value.isascii() else unicodedata.normalize("NFC", value)
    if isinstance(value, dict):  # keys as they are: two keys that normalise alike stay two
        return {key: _nfc(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_nfc(item) for item in value]
    return value


_QUOTE_ASCII: Final = json.encoder.encode_basestring_ascii  # what the encoder uses for str
_ENCODE_ASCII: Final = compact_encoder(ensure_ascii=True, sort_keys=True)
_ENCODE_TEXT: Final = compact_encoder(sort_keys=True)
_CONSTANTS: Final = {None: b"null", True: b"true", False: b"false"}


def canonical(value: Any) -> bytes:
    """Return the canonical JSON bytes of a JSON-safe (acyclic) *value* (see the module docs).

    Raises:
        ValueError: a NaN or an infinity.
        TypeError: a value JSON cannot hold.
    """
    kind = type(value)
    if kind is str and value.isascii():  # the usual unit: the C string encoder alone
        return _QUOTE_ASCII(value).encode("ascii")
    if kind is int:
        return int.__repr__(value).encode("ascii")
    if value is None or kind is bool:
        return _CONSTANTS[value]
    if kind is dict and not value:
        return b"{}"
    text = _ENCODE_TEXT(value)
    if text.isascii():  # nothing to normalise: the ASCII encoding is the same text
        return text.encode("ascii")
    return _ENCODE_ASCII(_nfc(value)).encode("ascii")


_NAMES: dict[str, bytes] = {}  # unit name -> 0x00 canonical(name) 0x00, see _name


def _name(name: str) -> bytes:
    """Return ``0x00 || canonical(name) || 0x00``, the bytes that introduce a unit."""
    found = _NAMES.get(name)
    if found is None:
        found = b"\0" + canonical(name) + b"\0"
        if len(_NAMES) < 10_000:  # data keys are few; a flood of them is not cached
            _NAMES[name] = found
    return found


def new_seed() -> str:
    """Return a fresh entry seed: 16 random bytes as 32 hex digits."""
    return os.urandom(16).hex()


def _salts(seed: str, count: int) -> bytes:
    """Return the salts of *count* units, 16 bytes each, from the entry's *seed*."""
    return hashlib.shake_256(bytes.fromhex(seed)).digest(16 * count)


def _digest(salt: bytes, name: str, value: Any) -> bytes:
    """Return ``digest(unit)`` (see the module docs); content_digest inlines it per write."""
    return hashlib.sha256(salt + _name(name) + canonical(value)).digest()


def _units(entry: AuditEntry) -> list[tuple[str, Any]]:
    """Return ``(name, value)`` of every unit of *entry*, in the order of their names."""
    units: list[tuple[str, Any]] = []
    if entry.actor_text is not None:
        units.append(("actor_text", entry.actor_text))
    units.append(("context", entry.context))
    data = entry.data
    if isinstance(data, Mapping):  # every data.<key> sorts between context and message
        keyed = [(f"data.{key}", value) for key, value in data.items()]
        if len(keyed) > 1:
            keyed.sort(key=_first)
        units += keyed
    else:  # a store handed back something odd: hash it whole rather than fail
        units.append(("data", data))
    units.append(("message", entry.message))
    if entry.object_text is not None:
        units.append(("object_text", entry.object_text))
    return units


def _first(pair: tuple[str, Any]) -> str:
    return pair[0]


def unit_names(entry: AuditEntry) -> list[str]:
    """Return the names of *entry*'s units, the values :func:`shred_entry` can replace."""
    return [name for name, _ in _units(entry)]


def _head(entry: AuditEntry) -> list[Any]:
    return [
        timestamp_text(entry.timestamp),
        entry.action,
        entry.level,
        entry.logger,
        entry.actor_type,
        entry.actor_id,
        entry.object_type,
        entry.object_id,
        entry.scope,
        bool(entry.visible),
    ]


def _shredded_form(name: str) -> Any:
    return {SHREDDED: True} if name == "context" else SHREDDED


def content_digest(entry: AuditEntry) -> str:
    """Return the content digest of *entry* (its seed, or its shred record, must be set).

    Raises:
        ValueError: the entry has neither a seed nor the salt or digest of every unit, or a
            shredded value is not the marker any more.
    """
    units = _units(entry)
    shred = entry.shred
    if entry.seed is not None and not shred:  # the usual case, kept apart: it runs per write
        salts = _salts(entry.seed, len(units))
        sha256, names = hashlib.sha256, _NAMES
        parts = [canonical(_head(entry))]
        at = 0
        for name, value in units:
            encoded = names.get(name) or _name(name)
            parts.append(encoded)
            parts.append(sha256(salts[at : at + 16] + encoded + canonical(value)).digest())
            at += 16
        return sha256(b"".join(parts)).hexdigest()
    digests: Mapping[str, str] = (shred or {}).get("digests", {})
    parts = [canonical(_head(entry))]
    for name, salt, value in _salted(entry, units):
        encoded = _name(name)
        if salt is None:  # shredded: its digest stands for the value
            if value != _shredded_form(name):
                raise ValueError(f"the shredded value {name!r} was replaced")
            digest = _hex(digests[name], name)
        else:
            digest = _digest(salt, name, value)
        parts += (encoded, digest)
    return hashlib.sha256(b"".join(parts)).hexdigest()


def _salted(
    entry: AuditEntry, units: list[tuple[str, Any]]
) -> Iterator[tuple[str, bytes | None, Any]]:
    """Yield ``(name, salt, value)`` of every unit; the salt is ``None`` for a shredded one."""
    shred = entry.shred or {}
    digests: Mapping[str, str] = shred.get("digests", {})
    salts: Mapping[str, str] = shred.get("salts", {})
    derived = None if entry.seed is None else _salts(entry.seed, len(units))
    for index, (name, value) in enumerate(units):
        if name in digests:
            yield name, None, value
        elif derived is not None:
            yield name, derived[16 * index : 16 * index + 16], value
        elif name in salts:
            yield name, _hex(salts[name], name), value
        else:
            raise ValueError(f"no seed and no salt for {name!r}")


def _hex(text: object, name: str) -> bytes:
    try:
        return bytes.fromhex(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"the salt or digest of {name!r} is not hex") from None


def link(prev_hash: str | None, entry_id: int, content: str) -> str:
    """Return the chained hash of the entry with this id and content (see the module docs)."""
    text = f"{prev_hash or ''}\0{entry_id}\0{content}".encode("ascii")
    return hashlib.sha256(_VERSION_BYTES + b"\0" + text).hexdigest()


def seal(
    entries: Sequence[AuditEntry], contents: Sequence[str], prev_hash: str | None, first_id: int
) -> str | None:
    """Give *entries* their ids and chain them after *prev_hash*; return the last hash.

    *contents* are the entries' :func:`content_digest` values, computed beforehand (outside
    the write transaction, where only this cheap step must run).
    """
    for offset, (entry, content) in enumerate(zip(entries, contents, strict=True)):
        entry.id = first_id + offset
        entry.prev_hash = prev_hash
        entry.hash = prev_hash = link(prev_hash, entry.id, content)
    return prev_hash


def prepare(entry: AuditEntry) -> str:
    """Put *entry* in the form a store keeps, give it a seed, and return its content digest.

    The digest must be the one :func:`verify_entries` recomputes from what the store gives
    back, so values are normalised first: text that UTF-8 cannot hold gets its lone
    surrogates escaped, and ``data`` and ``context`` become plain JSON values (string keys,
    lists for tuples).
    """
    for name in TEXT_COLUMNS:
        value = getattr(entry, name)
        if value is not None and (type(value) is not str or not value.isascii()):
            setattr(entry, name, storable(str(value)))
    if entry.message is None:
        entry.message = ""
    for name in ("data", "context"):
        value = to_jsonable(getattr(entry, name))
        setattr(entry, name, value if isinstance(value, dict) else {"value": value})
    if entry.seed is None and not entry.shred:
        entry.seed = new_seed()
    return content_digest(entry)


def shred_entry(entry: AuditEntry, names: Iterable[str] | None = None) -> AuditEntry:
    """Return a copy of *entry* with the named units (default: every unit) replaced by
    :data:`SHREDDED`, keeping the same content digest.

    Unknown names are ignored (an entry without ``data.email`` has nothing to shred there).
    """
    units = _units(entry)
    present = {name for name, _ in units}
    wanted = present if names is None else {name for name in names if name in present}
    shred = entry.shred or {}
    digests = dict(shred.get("digests", {}))
    salts: dict[str, str] = {}
    for name, salt, value in _salted(entry, units):
        if salt is None:
            continue  # shredded before
        if name in wanted:
            digests[name] = _digest(salt, name, value).hex()
        else:
            salts[name] = salt.hex()
    wanted -= set(shred.get("digests", {}))
    data = dict(entry.data) if isinstance(entry.data, Mapping) else entry.data
    replaced: dict[str, Any] = {}
    for name in wanted:
        if name.startswith("data.") and isinstance(data, dict):
            data[name[5:]] = SHREDDED
        elif name == "context":
            replaced["context"] = _shredded_form("context")
        else:
            replaced[name] = SHREDDED
    return dataclasses.replace(
        entry,
        data=data,
        seed=None,
        shred={"digests": digests, "salts": salts},
        shredded=entry.shredded or bool(wanted),
        **replaced,
    )


def _entries(count: int, kind: str = "") -> str:
    return f"{count:,} {kind}{'entry' if count == 1 else 'entries'}"


def check_fields(fields: Iterable[str] | None) -> tuple[str, ...] | None:
    """Return *fields* as a tuple of unit names, or ``None`` (all units).

    Raises:
        ValueError: a name that is not a unit (see :data:`PERSONAL_FIELDS`, ``data.<key>``).
    """
    if fields is None:
        return None
    if isinstance(fields, str):
        raise TypeError("fields must be a list of names, not one str")
    names = tuple(fields)
    for name in names:
        if not isinstance(name, str) or not (
            name in PERSONAL_FIELDS or (name.startswith("data.") and len(name) > 5)
        ):
            allowed = ", ".join(PERSONAL_FIELDS)
            raise ValueError(f"cannot shred {name!r}: the fields are {allowed} and data.<key>")
    if not names:
        raise ValueError("fields is empty: name the fields to shred, or None for all")
    return names


def _maintenance_entry(action: str, message: str, by: object, data: dict[str, Any]) -> AuditEntry:
    actor = describe_actor(by)
    return AuditEntry(
        timestamp=_dt.datetime.now(_dt.timezone.utc),
        action=action,
        level="WARNING",
        logger="structlogx.audit",
        message=message,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_text=actor.text,
        data=data,
    )


@dataclasses.dataclass(frozen=True)
class ShredPlan:
    """What a ``shred`` call asked for, checked (shared by every store)."""

    query: Query
    fields: tuple[str, ...] | None
    reason: str

    @classmethod
    def build(
        cls, *, object: object, actor: object, fields: Iterable[str] | None, reason: str
    ) -> ShredPlan:
        """Check the arguments of ``Store.shred``.

        Raises:
            ValueError: no object and no actor, an empty reason, an unknown field.
        """
        if object is None and actor is None:
            raise ValueError("shred needs object= or actor=: whose entries to shred")
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError("shred needs a reason (it is recorded)")
        query = Query.build(object=object, actor=actor, visible=None, limit=None)
        return cls(query, check_fields(fields), reason)

    def apply(self, entries: list[AuditEntry], report: ShredReport) -> None:
        """Shred the matching entries of *entries* in place, counting them in *report*
        (a dry run only counts); for stores that hold their entries as a list."""
        for index, entry in enumerate(entries):
            if self.query.matches(entry):
                shredded = report.add(entry, self.fields)
                if shredded is not None and not report.dry_run:
                    entries[index] = shredded

    def record(self, report: ShredReport, by: object) -> AuditEntry:
        """Return the ``structlogx.audit.shredded`` entry that records the shredding."""
        subject = (
            None if self.query.object_id is None else [self.query.object_type, self.query.object_id]
        )
        return _maintenance_entry(
            "structlogx.audit.shredded",
            f"Shredded personal data in {_entries(report.entries, 'audit ')}: {self.reason}",
            by,
            {
                "object": subject,
                "actor": self.query.actor_id,
                "fields": list(self.fields) if self.fields is not None else "all",
                "reason": self.reason,
                "entries": report.entries,
            },
        )


@dataclasses.dataclass
class ShredReport:
    """What ``shred`` changed (or, with ``dry_run``, would change).

    Attributes:
        entries: how many entries had something to shred.
        changes: for each such entry id, the names of the values replaced.
        dry_run: whether nothing was written.
    """

    dry_run: bool = False
    entries: int = 0
    changes: dict[int, list[str]] = dataclasses.field(default_factory=dict)

    def add(self, entry: AuditEntry, fields: Iterable[str] | None) -> AuditEntry | None:
        """Shred *entry*'s *fields*; count it and return the new entry, or ``None``."""
        before = set((entry.shred or {}).get("digests", {}))
        shredded = shred_entry(entry, fields)
        gone = sorted(set((shredded.shred or {}).get("digests", {})) - before)
        if not gone:
            return None
        self.entries += 1
        self.changes[entry.id if entry.id is not None else -1] = gone
        return shredded

    def __str__(self) -> str:
        verb = "would shred" if self.dry_run else "shredded"
        return f"{verb} personal data in {_entries(self.entries)}"


@dataclasses.dataclass(frozen=True)
class PrunePlan:
    """What a ``prune`` call asked for, checked (shared by every store)."""

    before: _dt.datetime
    reason: str

    @classmethod
    def build(cls, before: _dt.datetime, *, reason: str) -> PrunePlan:
        """Check the arguments of ``Store.prune``.

        Raises:
            TypeError: *before* is not a datetime.
        """
        if not isinstance(before, _dt.datetime):
            raise TypeError(f"before must be a datetime, not {type(before).__name__}")
        return cls(as_utc(before), str(reason))

    def old_entries(self, entries: Sequence[AuditEntry]) -> int:
        """Return how many of *entries* (in id order) go: the run from the oldest that are
        all before ``before``."""
        cut = 0
        while cut < len(entries) and as_utc(entries[cut].timestamp) < self.before:
            cut += 1
        return cut

    def record(self, report: PruneReport, by: object) -> AuditEntry:
        """Return the ``structlogx.audit.pruned`` entry that records the pruning."""
        return _maintenance_entry(
            "structlogx.audit.pruned",
            f"Pruned {_entries(report.entries, 'audit ')} older than {self.before.isoformat()}",
            by,
            {
                "before": self.before.isoformat(),
                "entries": report.entries,
                "anchor_id": report.anchor_id,
                "reason": self.reason,
            },
        )


@dataclasses.dataclass(frozen=True)
class PruneReport:
    """What ``prune`` deleted (or would delete), and the anchor the chain now starts after."""

    entries: int
    anchor_id: int | None
    dry_run: bool = False

    def __str__(self) -> str:
        verb = "would prune" if self.dry_run else "pruned"
        anchor = f"; the chain starts after entry {self.anchor_id}" if self.anchor_id else ""
        return f"{verb} {_entries(self.entries)}{anchor}"


@dataclasses.dataclass(frozen=True)
class Problem:
    """The first thing wrong with a chain: where, and what."""

    id: int
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"entry {self.id}: {self.kind}: {self.detail}"


@dataclasses.dataclass(frozen=True)
class VerifyReport:
    """What :meth:`Store.verify` found.

    Attributes:
        checked: how many entries were read.
        first_id, last_id: the ids of the first and last entries read (``None`` if none).
        anchor_id: the id of the last pruned entry the chain starts after, if any.
        problem: the first problem, or ``None`` when the chain is intact.
    """

    checked: int
    first_id: int | None
    last_id: int | None
    anchor_id: int | None
    problem: Problem | None

    @property
    def ok(self) -> bool:
        """Whether the chain is intact."""
        return self.problem is None

    def __str__(self) -> str:
        start = f" after the pruning anchor {self.anchor_id}" if self.anchor_id else ""
        if self.problem is None:
            span = f" (ids {self.first_id} to {self.last_id})" if self.checked else ""
            return f"OK: {_entries(self.checked)} verified{span}{start}"
        return f"FAILED after {_entries(self.checked)}{start}: {self.problem}"


def verify_entries(
    entries: Iterable[AuditEntry],
    *,
    anchor: tuple[int, str] | None = None,
    head: tuple[int, str | None] | None = None,
    progress: Callable[[int], object] | None = None,
    content: Callable[[AuditEntry], str] = content_digest,
    head_may_lag: bool = False,
) -> VerifyReport:
    """Check *entries*, given in increasing id order, in one pass with bounded memory.

    Args:
        content: returns an entry's content digest, raising ``ValueError`` when it cannot
            be computed; by default :func:`content_digest` (a store that computes digests in
            worker processes passes a lookup of their results).
        anchor: ``(id, hash)`` of the last pruned entry, which the first entry links to.
        head: ``(id, hash)`` of the newest entry as the store recorded it at its last write,
            so that entries deleted from the end are found too.
        head_may_lag: the head is written after the entries (not in one transaction), so a
            head older than the chain's end is accepted.
        progress: called with the number of entries checked, every 10,000 entries.
    """
    prev_id, prev_hash = anchor if anchor is not None else (0, None)
    anchor_id = anchor[0] if anchor is not None else None
    checked = 0
    first_id = last_id = None
    pending: list[AuditEntry] = []  # the entry before, for "inserted" and "reordered"
    for entry in entries:
        checked += 1
        entry_id = entry.id if entry.id is not None else -1
        if first_id is None:
            first_id = entry_id
        last_id = entry_id
        problem = _check(entry, prev_id, prev_hash, pending, content)
        if problem is not None:
            return VerifyReport(checked, first_id, last_id, anchor_id, problem)
        prev_id, prev_hash = entry_id, entry.hash
        pending[:] = [entry]
        if progress is not None and checked % 10_000 == 0:
            progress(checked)
    lagging = head is not None and head_may_lag and 0 <= head[0] < prev_id
    if head is not None and not lagging and (head[0] != prev_id or head[1] != prev_hash):
        if head[0] > prev_id:
            problem = Problem(
                prev_id + 1,
                "missing entries",
                f"the store's last write ended at entry {head[0]}, the chain ends at {prev_id}",
            )
        else:
            problem = Problem(head[0], "head mismatch", "the chain's end is not the store's head")
        return VerifyReport(checked, first_id, last_id, anchor_id, problem)
    if progress is not None:
        progress(checked)
    return VerifyReport(checked, first_id, last_id, anchor_id, None)


def _check(
    entry: AuditEntry,
    prev_id: int,
    prev_hash: str | None,
    before: list[AuditEntry],
    digest_of: Callable[[AuditEntry], str],
) -> Problem | None:
    entry_id = entry.id if entry.id is not None else -1
    if entry.hash is None:
        return Problem(entry_id, "unchained entry", "it has no hash")
    if entry_id <= prev_id:
        return Problem(entry_id, "reordered entries", f"its id comes after {prev_id}")
    if entry_id > prev_id + 1:
        gone = f"ids {prev_id + 1} to {entry_id - 1}" if entry_id > prev_id + 2 else "it"
        return Problem(prev_id + 1, "missing entry", f"{gone} cannot be found")
    try:
        content = digest_of(entry)
    except (ValueError, TypeError) as exc:
        return Problem(entry_id, "changed content", f"its content cannot be hashed: {exc}")
    if entry.prev_hash == prev_hash:
        if link(prev_hash, entry_id, content) == entry.hash:
            return None
        return Problem(entry_id, "changed content", "its hash does not match its content")
    if before and before[0].id is not None and entry.prev_hash == before[0].prev_hash:
        return Problem(before[0].id, "inserted entry", "the entry after it links past it")
    for moved_from in (entry_id + 1, entry_id - 1):
        if link(entry.prev_hash, moved_from, content) == entry.hash:
            return Problem(entry_id, "reordered entries", f"it was written as entry {moved_from}")
    return Problem(entry_id, "broken link", "its prev_hash is not the hash of the entry before")
