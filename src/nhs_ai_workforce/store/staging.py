"""Replacing a set of files all together: write them into a staging directory, then move them in.

Every file is written (and synced) into ``<root>/.staging-<token>/`` first, mirroring its place
under ``root``. Only when all are written does :meth:`StagedFiles.commit` move them into place,
one ``os.replace`` each: a rename needs no space, so the moves do not fail halfway for a full
disk, and each file is replaced in one step, never half-written. A commit that fails anyway puts
back every file it had replaced (kept as hard links, so no copy is made). A staging directory
still there when the next writer holds its lock is from a killed process: :func:`remove_staged`.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

STAGING_PREFIX = ".staging-"
_REPLACED = ".replaced"


class StagedFiles:
    """``files`` (path under ``root`` -> bytes) written into a new staging directory in ``root``.

    :meth:`commit` moves them into place and removes the ``stale`` paths; :meth:`abort` drops them.

    :raises OSError: if a file cannot be written; the staging directory is removed first.
    """

    def __init__(self, files: dict[Path, bytes], root: Path, *, stale: list[Path] = ()) -> None:
        self.root = root
        self.directory = root / f"{STAGING_PREFIX}{secrets.token_hex(6)}"
        self.paths = list(files)
        self.stale = [path for path in stale if path not in files]
        try:
            for path, data in files.items():
                staged = self._staged(path)
                staged.parent.mkdir(parents=True, exist_ok=True)
                with staged.open("wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                staged.chmod(0o644)
        except BaseException:
            self.abort()
            raise

    def _staged(self, path: Path) -> Path:
        return self.directory / path.relative_to(self.root)

    def _keep(self, path: Path) -> Path | None:
        """A hard link to the file at ``path`` inside the staging directory, if there is one."""
        if not path.is_file():
            return None
        kept = self.directory / _REPLACED / path.relative_to(self.root)
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.hardlink_to(path)
        return kept

    def commit(self) -> list[Path]:
        """Move every staged file into place and remove the stale ones; return the paths written.

        On failure every file already replaced or removed is put back, and the error re-raised.
        """
        done: list[tuple[Path, Path | None]] = []  # (path, link to what it replaced, if anything)
        try:
            for path in self.paths:
                kept = self._keep(path)
                path.parent.mkdir(parents=True, exist_ok=True)
                self._staged(path).replace(path)
                done.append((path, kept))
            for path in self.stale:
                kept = self._keep(path)
                if kept is not None:
                    path.unlink()
                    done.append((path, kept))
        except BaseException:
            for path, kept in reversed(done):
                if kept is None:
                    path.unlink(missing_ok=True)
                else:
                    kept.replace(path)
            raise
        finally:
            self.abort()
        return list(self.paths)

    def abort(self) -> None:
        """Remove the staging directory and everything still in it."""
        shutil.rmtree(self.directory, ignore_errors=True)


def remove_staged(root: Path) -> list[Path]:
    """Remove the staging directories in ``root`` (left by killed writers); return them."""
    if not root.is_dir():
        return []
    leftovers = sorted(root.glob(STAGING_PREFIX + "*"))
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)
    return leftovers
