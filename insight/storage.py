"""Content-addressed audio store: each recording lives once, under its sha256."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from insight.errors import UploadTooLarge

CHUNK = 1024 * 1024


class AudioStore:
    """A directory of audio files named by their sha256 (``ab/cd/abcd…``).

    Files are written to a temporary path first and moved into place with an atomic rename, so a crash never
    leaves a half-written file under a content address.
    """

    def __init__(self, root: Path, tmp_dir: Path) -> None:
        self.root = root
        self.tmp_dir = tmp_dir

    def path_for(self, sha256: str) -> Path:
        """Path of the file with content hash ``sha256`` (it may not exist).

        Raises:
            ValueError: ``sha256`` is not 64 lowercase hex digits.
        """
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        """Whether the file with content hash ``sha256`` is stored."""
        return self.path_for(sha256).is_file()

    @contextmanager
    def receive(self, stream: BinaryIO, *, max_bytes: int) -> Iterator[tuple[Path, str, int]]:
        """Copy ``stream`` to a temporary file while hashing it.

        Yields ``(temp_path, sha256, size)``; the temporary file is removed when the block exits, whether or not
        it was committed with :meth:`commit`.

        Raises:
            UploadTooLarge: the stream is longer than ``max_bytes`` (nothing is kept).
        """
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix="upload-")
        tmp = Path(name)
        try:
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise UploadTooLarge(
                            f"The file is larger than the upload limit of {max_bytes // (1024 * 1024)} MiB.",
                            hint="Split the recording or compress it (e.g. to mp3/opus), then upload again.",
                        )
                    digest.update(chunk)
                    out.write(chunk)
            yield tmp, digest.hexdigest(), size
        finally:
            tmp.unlink(missing_ok=True)

    def commit(self, tmp: Path, sha256: str) -> tuple[Path, bool]:
        """Move a received file to its content address. Returns ``(path, created)``."""
        dest = self.path_for(sha256)
        if dest.is_file():
            return dest, False
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Same filesystem (tmp_dir lives beside root): an atomic rename, no copy.
            os.replace(tmp, dest)
        except OSError:
            staging = dest.with_name(dest.name + f".{os.getpid()}.partial")
            shutil.copyfile(tmp, staging)
            os.replace(staging, dest)
        return dest, True

    def delete(self, sha256: str) -> None:
        """Remove the file with content hash ``sha256``; a missing file is not an error."""
        self.path_for(sha256).unlink(missing_ok=True)

    def iter_files(self) -> Iterator[Path]:
        """Every stored file (used by tests and retention checks)."""
        if self.root.is_dir():
            yield from (p for p in self.root.rglob("*") if p.is_file())


def sha256_file(path: Path) -> str:
    """Lowercase hex sha256 of the file at ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
