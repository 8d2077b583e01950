"""Reading a small file safely: one bounded read for everything that reads a file a user names
(recordings, imports, firmware profiles, settings, calibrations). Core layer: imports nothing
of the package.

The file is opened without blocking (a named pipe with no writer does not hang the program)
and judged on the open descriptor, so a directory, device or pipe is never read, and at most
``max_bytes + 1`` bytes are read (``/dev/zero`` or a huge file cannot exhaust memory).
"""

from __future__ import annotations

import errno
import os
import stat


class NotRegularFileError(OSError):
    """The path is a device, pipe or socket, not a file."""


class FileTooLargeError(OSError):
    """The file holds more than the reader accepts. ``size``: its size in bytes when the file
    system says it (None when only the read found out)."""

    def __init__(self, path: object, max_bytes: int, size: int | None) -> None:
        super().__init__(errno.EFBIG, f"more than {max_bytes} bytes", str(path))
        self.max_bytes = max_bytes
        self.size = size


def read_regular_file(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``max_bytes`` of them.

    Raises ``FileNotFoundError``, ``IsADirectoryError``, ``NotRegularFileError``,
    ``FileTooLargeError`` or another ``OSError``; the caller says what it means for its file.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFileError(errno.EINVAL, "not a regular file", str(path))
        if st.st_size > max_bytes:
            raise FileTooLargeError(path, max_bytes, st.st_size)
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # it grew, or the file system did not know its size
        raise FileTooLargeError(path, max_bytes, None)
    return data
