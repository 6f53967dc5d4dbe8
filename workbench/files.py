"""Reading files that come from outside without waiting on them or inflating them without bound.

Two guards every reader of outside files goes through:

- :func:`open_regular` opens a path without waiting on it (a FIFO left in a folder would block
  a plain ``open`` until something writes to it) and refuses what is not a regular file;
- :func:`check_archive` checks a zip archive (a ``.skops`` model, a ``.keras`` network) against
  :class:`ArchiveLimits` before anything in it is read: how many members, what each one and all
  of them inflate to, as the archive declares it and as it actually inflates, streamed in
  blocks so that checking holds only one block in memory.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

MiB = 1 << 20


class FileProblem(ValueError):
    """A path that cannot be read as a file; the message says why, without the path (the
    caller names the file in its own words)."""


class ArchiveProblem(ValueError):
    """A zip archive over its limits, or damaged; the message says which member and which
    limit, without the archive's path."""


def open_regular(path: str | Path, *, max_bytes: int | None = None) -> int:
    """Open ``path`` for reading without waiting on it and return the descriptor; refuse what
    is not a non-empty regular file, or (``max_bytes``) a file larger than that.

    Raises
    ------
    FileProblem
        "cannot read the file (...)", "a folder", "the file is empty", "not a regular file (a
        FIFO, device or socket)" or "the file is N MB, more than ...".
    """
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        info = os.fstat(fd)
    except OSError as exc:
        raise FileProblem(f"cannot read the file ({exc.strerror or exc})") from exc
    if stat.S_ISREG(info.st_mode) and info.st_size > 0 and (max_bytes is None or info.st_size <= max_bytes):
        return fd
    os.close(fd)
    if stat.S_ISDIR(info.st_mode):
        raise FileProblem("a folder")
    if not stat.S_ISREG(info.st_mode):
        raise FileProblem("not a regular file (a FIFO, device or socket)")
    if info.st_size == 0:
        raise FileProblem("the file is empty")
    raise FileProblem(f"the file is {info.st_size / MiB:,.1f} MB, more than the {max_bytes / MiB:,.0f} MB allowed")


def read_regular(path: str | Path, *, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (:func:`open_regular`)."""
    data = bytearray()
    with os.fdopen(open_regular(path, max_bytes=max_bytes), "rb") as file:
        while block := file.read(MiB):  # in blocks: read(n) would set n bytes aside at once
            data += block
            if len(data) > max_bytes:  # it grew after the check
                raise FileProblem(f"the file is more than the {max_bytes / MiB:,.0f} MB allowed")
    return bytes(data)


@dataclass(frozen=True)
class ArchiveLimits:
    """What a zip archive of one kind may hold, inflated.

    ``members`` caps the number of members, ``member_bytes`` what any one inflates to,
    ``total_bytes`` what all of them inflate to together, and ``named`` caps particular members
    lower (a JSON that is parsed whole, for instance).
    """

    kind: str
    members: int
    member_bytes: int
    total_bytes: int
    named: tuple[tuple[str, int], ...] = ()

    def limit(self, name: str) -> int:
        return dict(self.named).get(name, self.member_bytes)


def _size(n: int) -> str:
    return f"{n / MiB:,.0f} MB" if n >= MiB else f"{n:,} bytes"


def check_archive(source: str | Path | bytes, limits: ArchiveLimits) -> None:
    """Check a zip archive against ``limits`` before anything in it is used.

    First the sizes the archive declares (its central directory: nothing is inflated), then
    the sizes its members actually inflate to (each streamed in 1 MB blocks, stopping at its
    limit; the CRC of each member is checked on the way, so damage is found here too).

    Raises
    ------
    ArchiveProblem
        One line naming the member and the limit it passes, or the archive's damage.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as archive:
            members = archive.infolist()
            if len(members) > limits.members:
                raise ArchiveProblem(f"holds {len(members):,} members, more than the {limits.members:,} a "
                                     f"{limits.kind} may hold")
            declared = 0
            for member in members:
                if member.file_size > limits.limit(member.filename):
                    raise ArchiveProblem(f"member {member.filename!r} inflates to {_size(member.file_size)}, more than "
                                         f"the {_size(limits.limit(member.filename))} a {limits.kind} member may")
                declared += member.file_size
            if declared > limits.total_bytes:
                raise ArchiveProblem(f"inflates to {_size(declared)} in all, more than the {_size(limits.total_bytes)} "
                                     f"a {limits.kind} may")
            total = 0
            for member in members:
                limit, size = limits.limit(member.filename), 0
                with archive.open(member) as stream:
                    while block := stream.read(min(MiB, limit + 1 - size)):
                        size += len(block)
                        if size > limit:
                            raise ArchiveProblem(f"member {member.filename!r} inflates to more than the {_size(limit)} "
                                                 f"a {limits.kind} member may (its declared size is "
                                                 f"{_size(member.file_size)})")
                total += size
                if total > limits.total_bytes:
                    raise ArchiveProblem(f"inflates to more than the {_size(limits.total_bytes)} a {limits.kind} may")
    except ArchiveProblem:
        raise
    except Exception as exc:  # zip damage surfaces as many exception types (BadZipFile, EOFError, zlib.error...)
        raise ArchiveProblem(f"is corrupt or not a {limits.kind} ({type(exc).__name__}: {exc})") from exc
