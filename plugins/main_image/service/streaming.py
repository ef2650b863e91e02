"""Multipart uploads streamed straight to temporary files, hashed (SHA-256) on the way.

No file is ever held in memory whole: the request body is fed chunk by chunk to
python-multipart's push parser, every part of the ``files`` field goes to its own temporary
file, and a file over the size limit (or a request over its limit) stops the upload with
`TooLarge` at the first byte past the limit.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

FIELD = "files"


class TooLarge(Exception):
    """Over a size limit (413); the message says which."""


class BadUpload(Exception):
    """Not a multipart/form-data body with files (422); the message says why."""


@dataclass
class ReceivedFile:
    path: Path
    filename: str | None
    size: int = 0
    sha256: str = ""


@dataclass
class _Receiver:
    """The parser's callbacks: the state of the part being received."""

    directory: Path
    max_file_bytes: int
    max_files: int
    files: list[ReceivedFile] = field(default_factory=list)
    _headers: dict[bytes, bytes] = field(default_factory=dict)
    _field: bytes = b""
    _value: bytes = b""
    _out: IO[bytes] | None = None
    _digest: Any = None

    def on_part_begin(self) -> None:
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if options.get(b"name", b"").decode("latin-1") != FIELD:
            return  # another field: its bytes are counted, not kept
        if len(self.files) >= self.max_files:
            raise TooLarge(f"more than {self.max_files} files in one request")
        handle, name = tempfile.mkstemp(dir=self.directory, prefix="upload-")
        self._out = os.fdopen(handle, "wb")
        self._digest = hashlib.sha256()
        raw_name = options.get(b"filename")
        self.files.append(
            ReceivedFile(Path(name), raw_name.decode("utf-8", "replace") if raw_name else None)
        )

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._out is None:
            return
        current = self.files[-1]
        current.size += end - start
        if current.size > self.max_file_bytes:
            raise TooLarge(
                f"file {len(self.files)} is over the limit of {self.max_file_bytes:,} bytes"
            )
        chunk = data[start:end]
        self._digest.update(chunk)
        self._out.write(chunk)

    def on_part_end(self) -> None:
        if self._out is not None:
            self._out.close()
            self.files[-1].sha256 = self._digest.hexdigest()
            self._out = None

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


def boundary_of(content_type: str | None) -> bytes:
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise BadUpload(f"expected multipart/form-data with a {FIELD!r} field")
    return boundary


async def receive(
    chunks: AsyncIterator[bytes],
    content_type: str | None,
    directory: Path,
    max_file_bytes: int,
    max_request_bytes: int,
    max_files: int,
) -> list[ReceivedFile]:
    """Every file of the ``files`` field, each in a temporary file under `directory`.

    On any error the temporary files written so far are removed before it is raised.
    """
    receiver = _Receiver(directory, max_file_bytes, max_files)
    callbacks = {name: getattr(receiver, name) for name in dir(receiver) if name.startswith("on_")}
    try:
        parser = MultipartParser(boundary_of(content_type), callbacks)  # type: ignore[arg-type]
        received = 0
        async for chunk in chunks:
            received += len(chunk)
            if received > max_request_bytes:
                raise TooLarge(f"the request is over the limit of {max_request_bytes:,} bytes")
            parser.write(chunk)
        parser.finalize()
        if receiver._out is not None:
            raise BadUpload("the multipart body ends inside a part")
    except MultipartParseError as error:
        discard(receiver.files, receiver)
        raise BadUpload(f"malformed multipart body: {error}") from None
    except BaseException:
        discard(receiver.files, receiver)
        raise
    if not receiver.files:
        raise BadUpload(f"no files: send one or more parts named {FIELD!r}")
    return receiver.files


def discard(files: list[ReceivedFile], receiver: _Receiver | None = None) -> None:
    if receiver is not None:
        receiver.close()
    for received in files:
        received.path.unlink(missing_ok=True)
