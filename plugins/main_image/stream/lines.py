"""One Kafka message becomes one landed line.

Validation stays in dbt (contract §2: every input line ends up staged or rejected with a reason),
so the lander changes a message only where it must:

* a JSON object gets ``"channel": "stream"`` (contract §8). The key is appended to the text as it
  is, so numbers, key order and duplicated keys (which dbt rejects as ``duplicate_key``) are
  never rewritten. An object that already carries a ``channel`` is re-serialised with the
  value replaced, unless that would change it (a duplicated key, a non-finite number): then
  its bytes are kept and dbt judges them.
* anything else (not UTF-8, not JSON, a JSON array or number, an empty or null value) is
  landed byte for byte, so dbt rejects it with its reason (``invalid_encoding``,
  ``invalid_json``, ...). Such a message carries no channel: it is not a record.
* a line break ends a line, so a message's own line breaks are escaped: inside a JSON object
  they are whitespace and are dropped by re-serialising it; in any other message each
  ``\\n`` / ``\\r`` byte becomes the two characters ``\\n`` / ``\\r`` (the message stays one
  rejected line, never two).
"""

from __future__ import annotations

import json
from typing import Any

CHANNEL = "stream"
_CHANNEL_SUFFIX = b'"channel":"stream"}'


class _DuplicateKey(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey
    return result


def _object(text: str) -> tuple[dict[str, Any] | None, bool]:
    """(the parsed object or None, whether a key is duplicated)."""
    try:
        value = json.loads(text, object_pairs_hook=_pairs)
    except _DuplicateKey:
        return None, True
    except ValueError:
        return None, False
    return (value, False) if isinstance(value, dict) else (None, False)


def _raw(value: bytes) -> bytes:
    return value.replace(b"\n", b"\\n").replace(b"\r", b"\\r")


def _dump(obj: dict[str, Any]) -> bytes | None:
    try:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except ValueError:
        return None


def landed_line(value: bytes | None) -> bytes:
    """The line (without its final newline) a message value is landed as."""
    if not value:
        return b""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return _raw(value)
    obj, duplicated = _object(text)
    if obj is None:
        return _raw(value)
    if "channel" not in obj and not duplicated:
        if "\n" in text or "\r" in text:
            dumped = _dump({**obj, "channel": CHANNEL})
            return dumped if dumped is not None else _raw(value)
        body = value.rstrip(b" \t")[:-1].rstrip(b" \t")  # without the closing brace
        separator = b"" if body.rstrip().endswith(b"{") else b","
        return body + separator + _CHANNEL_SUFFIX
    if obj.get("channel") == CHANNEL and "\n" not in text and "\r" not in text:
        return value
    dumped = _dump({**obj, "channel": CHANNEL})
    return dumped if dumped is not None else _raw(value)
