"""Tests for structlogx.redact."""

from __future__ import annotations

import collections
import copy
import re
import string
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from structlogx.jsonsafe import CYCLE_MARKER, DEPTH_MARKER, MAX_DEPTH
from structlogx.redact import (
    SENSITIVE_KEY_PATTERN,
    SENSITIVE_KEYS,
    SUBSTITUTE,
    Redactor,
    is_sensitive_key,
    key_pattern,
    luhn_valid,
    redact,
    redact_text,
)

S = SUBSTITUTE


def test_substitute_is_djangos() -> None:
    assert S == "*" * 20


# -- luhn_valid -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "digits",
    ["4111111111111111", "378282246310005", "6011111111111117", "5555555555554444", "79927398713"],
)
def test_luhn_valid_accepts_known_good_numbers(digits: str) -> None:
    assert luhn_valid(digits) is True


@pytest.mark.parametrize(
    "digits",
    ["4111111111111112", "79927398710", "", "7", "4111 1111 1111 1111", "４１１１", "12a4"],
)
def test_luhn_valid_rejects_bad_numbers_and_non_digits(digits: str) -> None:
    assert luhn_valid(digits) is False


@given(st.text(alphabet=string.digits, min_size=2, max_size=30))
def test_luhn_valid_exactly_one_check_digit_fits(body: str) -> None:
    assert sum(luhn_valid(body + check) for check in string.digits) == 1


# -- keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "PASSWORD",
        "db_passwd",
        "api_key",
        "ApiKey",
        "X-Auth-Token",
        "Authorization",
        "HTTP_COOKIE",
        "csrfmiddlewaretoken",
        "sessionid",
        "client_secret",
        "Signature",
        "keyboard",  # Django's substring rule: KEY. More hidden than needed, never less.
    ],
)
def test_sensitive_keys_follow_djangos_substring_rule(key: str) -> None:
    assert is_sensitive_key(key) is True


@pytest.mark.parametrize("key", ["user", "amount", "reason", "email", "order_id", 42, None, b"pw"])
def test_ordinary_keys_are_not_sensitive(key: object) -> None:
    assert is_sensitive_key(key) is False


def test_key_pattern_builds_a_case_insensitive_substring_rule() -> None:
    pattern = key_pattern(["iban", "a.b"])
    assert pattern is not None
    assert is_sensitive_key("customer_IBAN", pattern) is True
    assert is_sensitive_key("axb", pattern) is False  # names are literal, not regexes
    assert is_sensitive_key("password", pattern) is False
    assert key_pattern([]) is None
    assert is_sensitive_key("password", None) is False
    with pytest.raises(TypeError, match="single str"):
        key_pattern("password")
    with pytest.raises(TypeError, match="must be str"):
        key_pattern(["password", 1])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="must not be empty"):
        key_pattern(["password", ""])


def test_default_pattern_is_the_listed_keys() -> None:
    assert SENSITIVE_KEY_PATTERN is not None
    for name in SENSITIVE_KEYS:
        assert SENSITIVE_KEY_PATTERN.search(f"x{name.lower()}y")


# -- redact_text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111111111111111", S),
        ("card 4111 1111 1111 1111 ok", f"card {S} ok"),
        ("card 4111-1111-1111-1111.", f"card {S}."),
        ("amex 3782-822463-10005", f"amex {S}"),
        ("19 digits 6299 9999 9999 9999 996", f"19 digits {S}"),
        ("13 digits 4222 2222 2222 2", f"13 digits {S}"),
        ("6011 0009 9013 9424 3", f"{S} 3"),
        ("x4111111111111111y", f"x{S}y"),
        ("4111111111111111 12/25", f"{S} 12/25"),
        ("order 12 4111 1111 1111 1111", f"order 12 {S}"),
        ("two: 4111111111111111, 5555 5555 5555 4444", f"two: {S}, {S}"),
        ("Authorization: Bearer eyJhbGciOi.J9.x-y_z~", f"Authorization: Bearer {S}"),
        ("authorization: bearer abcdefgh", f"authorization: bearer {S}"),
        ("header Basic dXNlcjpwYXNzd29yZA==, rest", f"header Basic {S}, rest"),
        ("BASIC dXNlcjpw", f"BASIC {S}"),
        ("Basic dXNlcjpwYXNz.", f"Basic {S}."),
    ],
)
def test_redact_text_hides_cards_and_credentials(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order ORD-4111111111111112 placed",  # not Luhn-valid
        "4111 1111 1111 1112",
        "at 2024-01-15 12:00:00.123",
        "epoch ms 1700000000001",  # not Luhn-valid
        "call +49 30 1234 5678",
        "fibonacci 3 5 8 13 21 34 55 89 144 233 377",  # groups too short to be a card
        "41111111111111111111",  # 20 digits: not a card number
        "1234 5678 9012 3456 7890",  # no stretch of 13-19 of its digits is Luhn-valid
        "Basic setup done",
        "Basic auth failed for bob",
        "Bearer short",  # fewer than 8 token characters
        "the bearer of good news",
        "",
        "no digits at all, just words and more words",
    ],
)
def test_redact_text_leaves_ordinary_text_alone(text: str) -> None:
    assert redact_text(text) is text


def test_redact_text_options() -> None:
    text = "Bearer abcdefgh123 paid 4111111111111111"
    assert redact_text(text, cards=False) == f"Bearer {S} paid 4111111111111111"
    assert redact_text(text, credentials=False) == f"Bearer abcdefgh123 paid {S}"
    assert redact_text(text, cards=False, credentials=False) is text
    assert redact_text(text, substitute="[x]") == "Bearer [x] paid [x]"
    assert redact_text(42) == 42  # type: ignore[arg-type]


def test_redact_text_hides_a_token_holding_a_card_like_run_whole() -> None:
    assert redact_text("Bearer abc4111111111111111xyz") == f"Bearer {S}"


def test_the_fibonacci_case_really_has_luhn_valid_windows() -> None:
    # Makes the "groups too short" case above meaningful: without the group-size rule, some
    # stretch of 13-19 of its digits would pass the Luhn check and be hidden.
    digits = re.sub(r"\D", "", "3 5 8 13 21 34 55 89 144 233 377")
    windows = [digits[i:j] for i in range(len(digits)) for j in range(i + 13, i + 20)]
    assert any(luhn_valid(window) for window in windows if len(window) >= 13)


# -- redact -------------------------------------------------------------------------------------


def test_redact_returns_the_same_object_when_nothing_is_hidden() -> None:
    value = {"user": "bob", "items": [1, 2.5, None, ("a", b"b")], "tags": {"x"}, "n": 10**20}
    assert redact(value) is value


def test_redact_copies_only_what_it_must_and_never_changes_its_argument() -> None:
    inner = {"amount": 3}
    value = {"password": "pw", "inner": inner, "rows": [{"token": "t"}, "ok"], "pair": ("a", S)}
    before = copy.deepcopy(value)
    result = redact(value)
    assert result == {"password": S, "inner": inner, "rows": [{"token": S}, "ok"], "pair": ("a", S)}
    assert result["inner"] is inner
    assert result["pair"] is value["pair"]
    assert value == before


def test_redact_replaces_the_whole_value_of_a_sensitive_key() -> None:
    value = {"auth": {"user": "bob", "password": "pw"}, "api_keys": ["a", "b"], "token": None}
    assert redact(value) == {"auth": S, "api_keys": S, "token": S}


class Frozen(Mapping[str, Any]):
    """A read-only mapping that is not a dict."""

    def __init__(self, **values: Any) -> None:
        self._values = values

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def test_redact_container_types() -> None:
    card = "4111111111111111"
    assert redact((card, 1)) == (S, 1)
    assert redact([card]) == [S]
    assert redact({card}) == {S}
    assert redact(frozenset({card, "x"})) == frozenset({S, "x"})
    assert type(redact(frozenset({card}))) is frozenset
    assert redact(MappingProxyType({"secret": 1})) == {"secret": S}
    assert redact(Frozen(secret=1, other=2)) == {"secret": S, "other": 2}
    assert redact(collections.deque([card])) == [S]
    assert redact(collections.OrderedDict(pwd=1)) == {"pwd": 1}
    named = collections.namedtuple("named", "a b")(card, 2)
    assert redact(named) == (S, 2)


class LastValue(dict[str, list[str]]):
    """Like Django's MultiValueDict: lists stored, the last item read."""

    def __getitem__(self, key: str) -> Any:
        return super().__getitem__(key)[-1]

    def items(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        return ((key, self[key]) for key in self)


def test_redact_copies_a_mapping_as_it_reads_it() -> None:
    query = LastValue(q=["first", "shoes"], csrfmiddlewaretoken=["t"])
    assert redact(query) == {"q": "shoes", "csrfmiddlewaretoken": S}


def test_redact_leaves_other_objects_and_keys_alone() -> None:
    class Secretive:
        password = "pw"

    obj = Secretive()
    assert redact(obj) is obj
    assert redact(b"4111111111111111") == b"4111111111111111"
    assert redact({"4111111111111111": "x"}) == {"4111111111111111": "x"}


def test_redact_cuts_cycles_and_deep_nests_so_nothing_hides_behind_them() -> None:
    looped: dict[str, Any] = {"password": "pw"}
    looped["self"] = looped
    assert redact(looped) == {"password": S, "self": CYCLE_MARKER}
    shared = {"a": 1}
    assert redact([shared, shared]) is not None  # shared, not cyclic: no marker
    assert redact([shared, shared])[1] is shared
    deep: Any = "4111111111111111"
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    result = redact(deep)
    for _ in range(MAX_DEPTH):
        (result,) = result
    assert result == DEPTH_MARKER


class Exploding(Mapping[str, Any]):
    """A mapping that fails while being read."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("boom")

    def __iter__(self) -> Iterator[str]:
        yield "password"

    def __len__(self) -> int:
        return 1


def test_redact_fails_closed_and_never_raises() -> None:
    assert redact(Exploding()) == S
    assert redact({"ok": 1, "bad": Exploding()}) == {"ok": 1, "bad": S}


def test_redact_keys_option() -> None:
    value = {"password": "pw", "iban": "DE89"}
    assert redact(value, keys=["iban"]) == {"password": "pw", "iban": S}
    assert redact(value, keys=key_pattern(["IBAN"])) == {"password": "pw", "iban": S}
    assert redact(value, keys=None) is value
    assert redact(value, substitute="-") == {"password": "-", "iban": "DE89"}
    with pytest.raises(TypeError, match="keys must be"):
        redact(value, keys="iban")
    with pytest.raises(TypeError, match="substitute must be a str"):
        redact(value, substitute=["-"])  # type: ignore[arg-type]


def test_redactor_is_reusable_and_caches_key_decisions() -> None:
    redactor = Redactor(keys=["secret"], substitute="#", cards=False)
    assert redactor.redact({"Secret": 1, "card": "4111111111111111"}) == {
        "Secret": "#",
        "card": "4111111111111111",
    }
    assert redactor.is_sensitive("my_secret") is True
    assert redactor.is_sensitive("my_secret") is True
    assert redactor.text("Bearer abcdefgh1") == "Bearer #"
    with pytest.raises(TypeError, match="keys must be"):
        Redactor(keys=5)  # type: ignore[arg-type]


JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=12), children, max_size=4),
    ),
    max_leaves=20,
)


@given(JSONISH)
def test_redact_property_never_changes_its_argument_and_is_idempotent(value: Any) -> None:
    before = copy.deepcopy(value)
    once = redact(value)
    assert value == before
    assert redact(once) == once


@given(st.text())
def test_redact_text_property_is_idempotent_and_leaves_no_card(text: str) -> None:
    once = redact_text(text)
    assert redact_text(once) == once
    for run in re.findall(r"[0-9]{13,19}", once):
        # What is left is either not Luhn-valid or part of a longer digit string.
        assert not luhn_valid(run) or re.search(rf"[0-9]{run}|{run}[0-9]", once)
