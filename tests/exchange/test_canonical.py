"""Canonical JSON (RFC 8785), strict parsing, the time format, base64url and UUIDv7 message ids."""

import random
import struct
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest

from tongban.exchange.canonical import (
    CanonicalError,
    canonical_bytes,
    check_canonical,
    format_time,
    loads_strict,
    parse_time,
)
from tongban.exchange.ids import uuid7, uuid7_time
from tongban.exchange.signing import b64u, b64u_decode

# --- RFC 8785 -------------------------------------------------------------------------------------


def test_rfc8785_section_3_2_2_example_numbers_strings_literals():
    # The input of RFC 8785 §3.2.2, parsed as JSON; the expected output is §3.2.4's, byte for byte.
    source = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode()
    assert canonical_bytes(loads_strict(source)) == expected


def test_rfc8785_section_3_2_3_sorts_member_names_by_utf16_code_units():
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    out = canonical_bytes(value).decode()
    order = [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",  # U+1F600 is D83D DE00 in UTF-16: before U+FB33, unlike in UTF-8/UTF-32
        "Hebrew Letter Dalet With Dagesh",
    ]
    positions = [out.index(v) for v in order]
    assert positions == sorted(positions)


# RFC 8785 Appendix B: IEEE 754 bit patterns and the text ECMAScript (and so JCS) writes for them.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),  # minus zero
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "text"), APPENDIX_B)
def test_numbers_are_written_as_rfc8785_appendix_b_says(bits, text):
    number = struct.unpack(">d", bytes.fromhex(bits))[0]
    assert canonical_bytes(number) == text.encode()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (0.1, "0.1"),
        (4.50, "4.5"),
        (1.0, "1"),
        (1e-7, "1e-7"),
        (-0.0, "0"),
        (2**53 - 1, "9007199254740991"),
        (-(2**53 - 1), "-9007199254740991"),
    ],
)
def test_number_forms(value, text):
    assert canonical_bytes([value]) == f"[{text}]".encode()


def test_unicode_is_utf8_and_only_controls_quote_and_backslash_are_escaped():
    value = {"名称": '合肥市\t“一网通办”\u007f/\\"\x01'}
    assert canonical_bytes(value) == '{"名称":"合肥市\\t“一网通办”\u007f/\\\\\\"\\u0001"}'.encode()


def test_key_order_and_whitespace_of_the_input_do_not_matter():
    a = loads_strict('{ "b" : [1, 2.0, {"y": 1, "x": null}], "a": "x" }')
    b = loads_strict('{"a":"x","b":[1,2,{"x":null,"y":1}]}')
    assert canonical_bytes(a) == canonical_bytes(b) == b'{"a":"x","b":[1,2,{"x":null,"y":1}]}'


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        -float("inf"),
        2**53,
        -(2**53),
        {1: "x"},
        "\ud800",
        b"bytes",
        {1, 2},
        datetime.now(UTC),
    ],
    ids=["nan", "inf", "-inf", "2**53", "-2**53", "int-key", "lone-surrogate", "bytes", "set", "datetime"],
)
def test_values_without_a_canonical_form_are_refused(value):
    with pytest.raises(CanonicalError):
        canonical_bytes({"v": value})


def test_check_canonical_refuses_exactly_what_canonical_bytes_refuses():
    bad = [
        float("nan"),
        float("inf"),
        2**53,
        -(2**53),
        {1: "x"},
        "\ud800",
        {"\udc00": 1},
        b"x",
        {1, 2},
        datetime.now(UTC),
    ]
    good = [
        None,
        True,
        0,
        2**53 - 1,
        -(2**53 - 1),
        0.1,
        -0.0,
        "合肥\x00",
        ("a", 1),
        {"a": [{"b": {"c": [None]}}]},
    ]
    for value in bad:
        with pytest.raises(CanonicalError):
            canonical_bytes({"v": [value]})
        with pytest.raises(CanonicalError):
            check_canonical({"v": [value]})
    for value in good:
        canonical_bytes({"v": [value]})
        check_canonical({"v": [value]})


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        '{"a": NaN}',
        '{"a": Infinity}',
        '{"a": -Infinity}',
        '{"a": 1e400}',
        '{"a": ',
        b'{"a": "\xff"}',
    ],
    ids=["duplicate-name", "nan", "infinity", "-infinity", "overflow", "truncated", "not-utf8"],
)
def test_loads_strict_refuses_what_is_not_i_json(text):
    with pytest.raises(CanonicalError):
        loads_strict(text)


# --- Times ----------------------------------------------------------------------------------------


def test_time_format_is_utc_with_milliseconds_and_round_trips():
    at = datetime(2026, 11, 21, 18, 0, 0, 123999, tzinfo=UTC)
    assert format_time(at) == "2026-11-21T18:00:00.123Z"
    assert parse_time("2026-11-21T18:00:00.123Z") == at.replace(microsecond=123000)
    assert format_time(parse_time("2026-02-28T23:59:59.999Z")) == "2026-02-28T23:59:59.999Z"


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-21T10:00:00Z",
        "2026-11-21T10:00:00.123+00:00",
        "2026-11-21T10:00:00.123456Z",
        "2026-11-21 10:00:00.123Z",
        "2026-02-30T10:00:00.000Z",
        "2026-11-21T10:00:00.123z",
        " 2026-11-21T10:00:00.123Z",
        1763719200,
        None,
    ],
)
def test_other_time_forms_are_refused(text):
    with pytest.raises(ValueError):
        parse_time(text)


def test_naive_times_cannot_be_formatted():
    with pytest.raises(ValueError):
        format_time(datetime(2026, 11, 21, 10, 0))


# --- base64url ------------------------------------------------------------------------------------


def test_b64u_round_trips_without_padding():
    for n in range(0, 70):
        data = bytes(range(256))[:n][::-1]
        text = b64u(data)
        assert "=" not in text and "+" not in text and "/" not in text
        assert b64u_decode(text) == data


@pytest.mark.parametrize(
    "text",
    ["AA==", "AA=", "+w", "/w", "A A", "AA\n", "A", "AB", "AAB", "ÄA", 42],
    ids=[
        "padded",
        "padded1",
        "plus",
        "slash",
        "space",
        "newline",
        "length1",
        "trailing-bits",
        "trailing-bits3",
        "nonascii",
        "not-str",
    ],
)
def test_b64u_decode_is_strict(text):
    with pytest.raises(ValueError):
        b64u_decode(text)


# --- UUIDv7 ---------------------------------------------------------------------------------------


def test_uuid7_has_version_7_the_rfc_variant_and_the_current_time():
    before = datetime.now(UTC).replace(microsecond=0)
    value = uuid7()
    parsed = uuid.UUID(value)
    assert str(parsed) == value and value == value.lower()
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert before <= uuid7_time(value) <= datetime.now(UTC)


def test_uuid7_ids_are_unique_and_sorted_in_creation_order():
    ids = []
    for i in range(20000):
        ids.append(uuid7())
        if i % 5000 == 0:
            time.sleep(0.002)  # a few millisecond boundaries as well as many ids within one millisecond
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


def test_uuid7_is_unique_and_ordered_across_threads():
    per_thread: list[list[str]] = [[] for _ in range(8)]

    def make(out):
        for _ in range(2000):
            out.append(uuid7())

    threads = [threading.Thread(target=make, args=(out,)) for out in per_thread]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [i for out in per_thread for i in out]
    assert len(set(everything)) == len(everything)
    for out in per_thread:
        assert out == sorted(out)


def test_uuid7_time_refuses_other_versions():
    with pytest.raises(ValueError):
        uuid7_time(str(uuid.uuid4()))


def _random_value(rng: random.Random, depth: int = 0):
    alphabet = [
        *"aZ09 _-\"\\/",
        *(chr(c) for c in range(0x20)),  # control characters: short and \u00xx escapes
        "\x7f", "é", "中", "文", "\u2028", "\u2029", "\ue000", "\uffff", "\U0001f600", "\U00010000",
    ]  # fmt: skip

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))

    kind = rng.randint(0, 7 if depth < 4 else 4)
    if kind == 0:
        return text()
    if kind == 1:
        return rng.choice([0, 1, -1, 2**53 - 1, -(2**53 - 1), rng.randint(-(10**12), 10**12)])
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return rng.choice([0.5, 1.0, -0.0, 1e21, 1e-7, 123456789.125, 4.5])
    if kind == 4:
        return text()
    if kind in (5, 6):
        return {text(): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}
    return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]


def test_the_fast_path_writes_exactly_what_rfc8785_writes():
    """canonical_bytes takes json.dumps when that is JCS; on random documents (keys beyond the BMP,
    U+E000–U+FFFF, control characters, floats, edge integers) it must agree byte for byte with the
    reference implementation, and both paths must be taken."""
    import rfc8785

    from tongban.exchange import canonical

    rng = random.Random(8785)
    fast = 0
    for _ in range(3000):
        value = {"payload": _random_value(rng)}
        assert canonical_bytes(value) == rfc8785.dumps(value), value
        fast += canonical._json_is_jcs(value)
    assert 300 < fast < 2900  # both paths were exercised


def test_the_fast_path_refuses_what_rfc8785_refuses():
    for value in [{"a": "\ud800"}, {"\udc00": 1}, {"a": 2**53}, {"a": float("nan")}, {1: "a"}, {"a": {1, 2}}]:
        with pytest.raises(CanonicalError):
            canonical_bytes(value)
