"""Take secrets out of data before it leaves the process: keys, card numbers, credentials.

Three rules, each replacing the secret with one substitute string (:data:`SUBSTITUTE`,
Django's ``"********************"``):

sensitive keys
    In a mapping, the value of every key that contains one of :data:`SENSITIVE_KEYS`,
    case-insensitively (Django's ``SafeExceptionReporterFilter`` rule
    ``API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE``, plus ``SESSION``, ``CSRF`` and
    ``COOKIE``), is replaced whatever it is, nested containers included. It is a substring
    rule, so it also hides ``keyboard``, ``author`` or ``capital``: more hidden than needed,
    never less. Pass your own key list (:func:`key_pattern`) to narrow or widen it.
payment card numbers
    In every string, 13 to 19 digits that pass the Luhn check (:func:`luhn_valid`), written
    either without separators or in groups of 3 to 6 digits (the last group 1 to 6) joined by
    single spaces or dashes: ``4111111111111111``, ``4111 1111 1111 1111``,
    ``3782-822463-10005``. About one in ten random digit strings of that length passes the
    Luhn check, so long numeric ids are sometimes hidden too.
HTTP credentials
    In every string, the token after ``Bearer`` (8 or more token characters) and after
    ``Basic`` (only when it is base64 of ``user:password``), in any letter case:
    ``Authorization: Bearer ********************``.

:func:`redact` applies them to any value: mappings, sequences (lists, tuples, other
sequences), sets and strings, at any depth; other objects are returned as they are. It never
changes its argument: it returns the very same object when nothing needed hiding, else a copy
(a ``dict``, ``list``, ``tuple``, ``set`` or ``frozenset``) holding the hidden values. A
container met again inside itself becomes :data:`~structlogx.jsonsafe.CYCLE_MARKER`, and one
nested deeper than :data:`~structlogx.jsonsafe.MAX_DEPTH` becomes
:data:`~structlogx.jsonsafe.DEPTH_MARKER`, so nothing unredacted hides behind a cycle or a
deep nest. It never raises: a container that fails while being read is replaced by the
substitute as a whole (fail closed).

Not covered: keys of mappings are kept as they are, numbers that are ``int`` (not text) are
not checked for card numbers, and objects other than the containers above (a dataclass, a
request object) are not looked into.

:class:`Redactor` holds one configuration and caches per-key decisions; it is what
:class:`~structlogx.filters.RedactFilter` uses, and the cheapest way to redact many values
with the same rules.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from typing import Any, Final

from structlogx.jsonsafe import CYCLE_MARKER, DEPTH_MARKER, MAX_DEPTH

__all__ = [
    "SENSITIVE_KEYS",
    "SENSITIVE_KEY_PATTERN",
    "SUBSTITUTE",
    "Redactor",
    "is_sensitive_key",
    "key_pattern",
    "luhn_valid",
    "redact",
    "redact_text",
]

SUBSTITUTE: Final = "********************"
"""What every hidden value is replaced with (Django's ``CLEANSED_SUBSTITUTE``)."""

SENSITIVE_KEYS: Final = (
    "API",
    "AUTH",
    "TOKEN",
    "KEY",
    "SECRET",
    "PASS",
    "SIGNATURE",
    "HTTP_COOKIE",
    "SESSION",
    "CSRF",
    "COOKIE",
)
"""Substrings that make a mapping key sensitive, matched case-insensitively."""


def key_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """Compile *names* into a case-insensitive "contains any of" pattern.

    Returns ``None`` for an empty list (no key is sensitive).

    Raises:
        TypeError: *names* is a single ``str`` or holds something else than ``str``.
        ValueError: a name is empty (it would match every key).
    """
    if isinstance(names, str):
        raise TypeError(f"key names must be a list of str, not a single str {names!r}")
    listed = list(names)
    for name in listed:
        if not isinstance(name, str):
            raise TypeError(f"key names must be str, got {type(name).__name__}: {name!r}")
        if not name:
            raise ValueError("key names must not be empty (an empty name matches every key)")
    if not listed:
        return None
    return re.compile("|".join(re.escape(name) for name in dict.fromkeys(listed)), re.IGNORECASE)


SENSITIVE_KEY_PATTERN: Final = key_pattern(SENSITIVE_KEYS)
"""The compiled default key rule: :data:`SENSITIVE_KEYS`, case-insensitive, anywhere in the key.

:meta hide-value:
"""


def is_sensitive_key(name: object, pattern: re.Pattern[str] | None = SENSITIVE_KEY_PATTERN) -> bool:
    """Return whether a mapping key *name* is sensitive under *pattern* (``str`` keys only)."""
    return pattern is not None and isinstance(name, str) and pattern.search(name) is not None


_DOUBLED: Final = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_valid(digits: str) -> bool:
    """Return whether *digits* (ASCII digits only, no separators) passes the Luhn check."""
    if not isinstance(digits, str) or len(digits) < 2:
        return False
    if not (digits.isascii() and digits.isdigit()):
        return False
    values = [ord(char) - 48 for char in digits]
    total = sum(values[-1::-2]) + sum(_DOUBLED[value] for value in values[-2::-2])
    return total % 10 == 0


# A run of at least 13 ASCII digits with single spaces or dashes allowed between them; the
# card rules are then applied to its groups (see _card_spans).
_CARD_RUN: Final = re.compile(r"[0-9](?:[ -]?[0-9]){12,}")
_DIGIT_GROUP: Final = re.compile(r"[0-9]+")
_CARD_MIN, _CARD_MAX, _GROUP_MIN, _GROUP_MAX = 13, 19, 3, 6
# "Bearer"/"Basic", blanks, then an RFC 7235 token68.
_CREDENTIAL: Final = re.compile(r"\b(bearer|basic)[ \t]+([A-Za-z0-9\-._~+/]+=*)", re.IGNORECASE)
_BASE64: Final = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_BEARER_MIN: Final = 8
# A cheap first look for the credential rule (spelt out: faster than re.IGNORECASE).
_CREDENTIAL_HINT: Final = re.compile(r"(?:[Bb][Ee][Aa][Rr][Ee][Rr]|[Bb][Aa][Ss][Ii][Cc])[ \t]")
_SHORTEST: Final = 10  # "Basic YTpi" (base64 of "a:b"): shorter text holds no secret
_CLEAN_MAX_LENGTH, _CLEAN_MAX_ENTRIES = 256, 4096


def _card_spans(run: str) -> list[tuple[int, int]]:
    """Return the (start, end) offsets in *run* of card numbers: leftmost, then longest."""
    groups = [(match.start(), match.end()) for match in _DIGIT_GROUP.finditer(run)]
    spans: list[tuple[int, int]] = []
    first, count = 0, len(groups)
    while first < count:
        best = -1
        digits = ""
        for last in range(first, count):
            start, end = groups[last]
            if last > first:  # several groups: inner ones 3-6 digits, the last one at most 6
                inner = groups[last - 1][1] - groups[last - 1][0]
                if not _GROUP_MIN <= inner <= _GROUP_MAX or end - start > _GROUP_MAX:
                    break
            digits += run[start:end]
            if len(digits) > _CARD_MAX:
                break
            if len(digits) >= _CARD_MIN and luhn_valid(digits):
                best = last
        if best < 0:
            first += 1
        else:
            spans.append((groups[first][0], groups[best][1]))
            first = best + 1
    return spans


def _mask_cards(text: str, substitute: str) -> str:
    pieces: list[str] = []
    done = 0
    for run in _CARD_RUN.finditer(text):
        offset = run.start()
        for start, end in _card_spans(run.group()):
            pieces.append(text[done : offset + start])
            pieces.append(substitute)
            done = offset + end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def _is_basic_credential(token: str) -> int:
    """Return the length of the ``user:password`` base64 at the start of *token*, or 0."""
    match = _BASE64.match(token)
    if match is None:
        return 0
    encoded = match.group()
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return 0
    return len(encoded) if b":" in decoded else 0


def _credential_masker(substitute: str) -> Callable[[re.Match[str]], str]:
    def mask(match: re.Match[str]) -> str:
        whole, token = match.group(), match.group(2)
        keep = match.start(2) - match.start()  # the scheme and the blanks
        if match.group(1).lower() == "bearer":
            return whole if len(token) < _BEARER_MIN else whole[:keep] + substitute
        length = _is_basic_credential(token)
        return whole[:keep] + substitute + token[length:] if length else whole

    return mask


class Redactor:
    """One redaction configuration, reusable and thread-safe; see the module docs for the rules.

    Args:
        keys: the sensitive-key rule: a compiled pattern (searched in each ``str`` key), a list
            of substrings (matched case-insensitively, see :func:`key_pattern`) or ``None`` for
            no key rule. Default :data:`SENSITIVE_KEY_PATTERN`.
        substitute: what hidden values are replaced with.
        cards: hide payment card numbers in strings.
        credentials: hide ``Bearer``/``Basic`` credentials in strings.

    Raises:
        TypeError: an argument has the wrong type (the message names it).
        ValueError: *keys* holds an empty name.
    """

    __slots__ = (
        "_clean",
        "_clean_keys",
        "_key_cache",
        "_mask_credentials",
        "cards",
        "credentials",
        "keys",
        "substitute",
    )

    def __init__(
        self,
        *,
        keys: re.Pattern[str] | Iterable[str] | None = SENSITIVE_KEY_PATTERN,
        substitute: str = SUBSTITUTE,
        cards: bool = True,
        credentials: bool = True,
    ) -> None:
        if not isinstance(substitute, str):
            raise TypeError(f"substitute must be a str, not {type(substitute).__name__}")
        if keys is None or isinstance(keys, re.Pattern):
            self.keys: re.Pattern[str] | None = keys
        elif isinstance(keys, Iterable) and not isinstance(keys, (str, bytes)):
            self.keys = key_pattern(keys)
        else:
            raise TypeError(
                f"keys must be a compiled pattern, a list of str or None, not {type(keys).__name__}"
            )
        self.substitute = substitute
        self.cards, self.credentials = bool(cards), bool(credentials)
        self._mask_credentials = _credential_masker(substitute)
        self._key_cache: dict[str, bool] = {}
        self._clean_keys: set[str] = set()  # the keys of _key_cache that are not sensitive
        # Short strings already found to hold nothing (messages, data values repeat a lot).
        # Only clean strings are kept, so the cache never holds a secret.
        self._clean: set[str] = set()

    def is_sensitive(self, key: object) -> bool:
        """Return whether the mapping key *key* is sensitive (cached per key)."""
        if type(key) is not str:
            return isinstance(key, str) and is_sensitive_key(key, self.keys)
        cache = self._key_cache
        answer = cache.get(key)
        if answer is None:
            answer = self.keys is not None and self.keys.search(key) is not None
            if len(cache) >= 4096:
                cache.clear()
                self._clean_keys.clear()
            cache[key] = answer
            if not answer:
                self._clean_keys.add(key)
        return answer

    def text(self, text: str) -> str:
        """Return *text* with card numbers and credentials hidden (the same object if none)."""
        if len(text) < _SHORTEST:
            return text
        clean = self._clean
        if text in clean:
            return text
        result = text
        if self.credentials and _CREDENTIAL_HINT.search(result) is not None:
            # First: a token may hold 13 digits in a row.
            result = _CREDENTIAL.sub(self._mask_credentials, result)
        if self.cards:
            result = _mask_cards(result, self.substitute)
        if result != text:
            return result
        if len(text) <= _CLEAN_MAX_LENGTH and type(text) is str:
            if len(clean) >= _CLEAN_MAX_ENTRIES:
                clean.clear()
            clean.add(text)
        return text

    def redact(self, value: Any) -> Any:
        """Return *value* with secrets hidden: the same object if nothing was hidden, else a copy.

        Never raises and never changes *value*.
        """
        kind = _KINDS.get(type(value))
        if kind is _LEAF:
            return value
        try:
            if kind is _TEXT:
                return self.text(value)
            if kind is _MAP:  # the usual container: skip _value's checks, all true here
                return self._mapping(value, 1, {id(value)})
            return self._value(value, 0, set())
        except Exception:
            return self.substitute

    # -- the walk ---------------------------------------------------------------------------

    def _value(self, value: Any, depth: int, active: set[int]) -> Any:
        cls = type(value)
        kind = _KINDS.get(cls)
        if kind is None:
            kind = _kind_of(cls)
            if len(_KINDS) < 4096:
                _KINDS[cls] = kind
                if kind is _LEAF:
                    _LEAVES.add(cls)
        if kind is _LEAF:
            return value
        if kind is _TEXT:
            return self.text(value)
        if depth >= MAX_DEPTH:
            return DEPTH_MARKER
        ident = id(value)
        if ident in active:
            return CYCLE_MARKER
        active.add(ident)
        try:
            if kind is _MAP:
                return self._mapping(value, depth + 1, active)
            redacted: list[Any] = []
            changed = False
            walk = self._value
            for item in value:
                new = walk(item, depth + 1, active)
                changed = changed or new is not item
                redacted.append(new)
            if not changed:
                return value
            if kind is _SET:
                return frozenset(redacted) if isinstance(value, frozenset) else set(redacted)
            return tuple(redacted) if isinstance(value, tuple) else redacted
        except Exception:
            return self.substitute
        finally:
            active.discard(ident)

    def changes(self, pairs: Iterable[tuple[Any, Any]]) -> dict[Any, Any]:
        """Return ``{key: hidden value}`` for the (key, value) *pairs* with something to hide.

        The pairs are read as the items of a mapping (a sensitive key hides the whole value),
        e.g. ``mapping.items()``. An empty result means nothing needed hiding. Raises only
        what iterating *pairs* raises.
        """
        return self._changes(pairs, 1, set()) or {}

    def _dict(self, value: dict[Any, Any], depth: int, active: set[int]) -> Any:
        ident = id(value)
        active.add(ident)
        try:
            changes = self._changes(value.items(), depth + 1, active)
        except Exception:  # as _value: a failing item hides the whole dict
            return self.substitute
        finally:
            active.discard(ident)
        return {**value, **changes} if changes else value

    def _mapping(self, value: Mapping[Any, Any], depth: int, active: set[int]) -> Any:
        changes = self._changes(value.items(), depth, active)
        if not changes:
            return value
        # From items() as read above: dict(subclass) would copy its raw storage instead
        # (Django's MultiValueDict keeps lists there).
        copied = dict(value) if type(value) is dict else dict(value.items())
        copied.update(changes)  # keys keep their places
        return copied

    def _changes(
        self, pairs: Iterable[tuple[Any, Any]], depth: int, active: set[int]
    ) -> dict[Any, Any] | None:
        """Return the changed items, or ``None`` (nothing allocated) when nothing changed."""
        # The hot loop of every redaction: known-clean keys and strings and leaf types are
        # set look-ups; everything else takes the full path.
        changes: dict[Any, Any] | None = None
        clean_keys, clean_texts, leaves = self._clean_keys, self._clean, _LEAVES
        for key, item in pairs:
            if key not in clean_keys and self.is_sensitive(key):
                if not (type(item) is str and item == self.substitute):
                    changes = changes or {}
                    changes[key] = self.substitute
                continue
            cls = type(item)
            if cls in leaves:
                continue
            if cls is str:
                if item in clean_texts:
                    continue
                new = self.text(item)
            elif cls is dict and depth < MAX_DEPTH and id(item) not in active:
                new = self._dict(item, depth, active)  # an action's data: _value's checks done
            else:
                new = self._value(item, depth, active)
            if new is not item:
                changes = changes or {}
                changes[key] = new
        return changes


# How _value treats each type, decided once per class.
_LEAF, _TEXT, _MAP, _SEQUENCE, _SET = "leaf", "text", "map", "sequence", "set"
_KINDS: dict[type, str] = {
    str: _TEXT,
    int: _LEAF,
    float: _LEAF,
    bool: _LEAF,
    type(None): _LEAF,
    bytes: _LEAF,
    dict: _MAP,
    list: _SEQUENCE,
    tuple: _SEQUENCE,
    set: _SET,
    frozenset: _SET,
}


# The classes _KINDS calls leaves, as a set for the hot loop of _changes.
_LEAVES: set[type] = {cls for cls, kind in _KINDS.items() if kind is _LEAF}


def _kind_of(cls: type) -> str:
    if issubclass(cls, str):
        return _TEXT
    if issubclass(cls, (bytes, bytearray, memoryview, range)):
        return _LEAF
    if issubclass(cls, Mapping):
        return _MAP
    if issubclass(cls, Set):
        return _SET
    if issubclass(cls, Sequence):
        return _SEQUENCE
    return _LEAF


@functools.lru_cache(maxsize=32)
def _redactor(
    keys: re.Pattern[str] | Iterable[str] | None, substitute: str, cards: bool, credentials: bool
) -> Redactor:
    return Redactor(keys=keys, substitute=substitute, cards=cards, credentials=credentials)


def _cached(
    keys: re.Pattern[str] | Iterable[str] | None, substitute: str, cards: bool, credentials: bool
) -> Redactor:
    if isinstance(keys, Iterable) and not isinstance(keys, (str, bytes)):
        keys = tuple(keys)  # a list is not hashable; a tuple of str is
    try:
        hash((keys, substitute))
    except TypeError:  # let the constructor say what is wrong
        return Redactor(keys=keys, substitute=substitute, cards=cards, credentials=credentials)
    return _redactor(keys, substitute, bool(cards), bool(credentials))


def redact(
    value: Any,
    *,
    keys: re.Pattern[str] | Iterable[str] | None = SENSITIVE_KEY_PATTERN,
    substitute: str = SUBSTITUTE,
    cards: bool = True,
    credentials: bool = True,
) -> Any:
    """Return *value* with its secrets hidden; see the module docs for the rules.

    The same object comes back when nothing needed hiding, else a copy; *value* is never
    changed, cycles and deep nests are cut, and nothing is raised. The arguments are those of
    :class:`Redactor` (build one to redact many values with the same rules).

    Raises:
        TypeError: a configuration argument has the wrong type (never for *value*).
    """
    return _cached(keys, substitute, cards, credentials).redact(value)


def redact_text(
    text: str, *, substitute: str = SUBSTITUTE, cards: bool = True, credentials: bool = True
) -> str:
    """Return *text* with card numbers and ``Bearer``/``Basic`` credentials hidden.

    A value that is not a ``str`` is returned as it is.
    """
    if not isinstance(text, str):
        return text
    return _cached(None, substitute, cards, credentials).text(text)
