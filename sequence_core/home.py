"""The Sequence home folder ($SEQUENCE_HOME, default ~/.sequence) and safe file writes.

Every file under the home is written with :func:`atomic_write` (temp file in the same
folder, fsync, rename), so a crash or a second process never leaves a torn file, and
read-modify-write cycles hold :func:`locked` so two processes never lose an update.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import ConfigError

HOME_MODE = 0o700
SECRET_MODE = 0o600


def home_path() -> Path:
    """Where the home is, without creating or checking it."""
    env = os.environ.get("SEQUENCE_HOME")
    return Path(env).expanduser() if env else Path.home() / ".sequence"


def warn(message: str) -> None:
    """A warning for the user on stderr (never contains a secret)."""
    print(f"Warning: {message}", file=sys.stderr)


def ensure_home() -> Path:
    """Create the home (0700) or check the existing one.

    A home readable by others is tightened to 0700 with a warning; a home owned by
    another user, or not a folder, is refused.
    """
    path = home_path()
    if not path.exists():
        try:
            path.mkdir(mode=HOME_MODE, parents=True)
        except OSError as exc:
            raise ConfigError(f"cannot create home folder {path}: {exc.strerror}") from None
        return path
    if not path.is_dir():
        raise ConfigError(f"home {path} is not a folder (set SEQUENCE_HOME to another path)")
    st = path.stat()
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise ConfigError(f"home folder {path} belongs to another user (uid {st.st_uid}); refusing to use it")
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, HOME_MODE)
        warn(f"home folder {path} was accessible to other users (mode {stat.S_IMODE(st.st_mode):o}); fixed to 700")
    return path


def check_secret_file(path: Path) -> None:
    """Tighten a secrets file that others could read, with a warning."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, SECRET_MODE)
        warn(f"{path} was readable by other users (mode {mode:o}); fixed to 600")


def atomic_write(path: Path, data: bytes, mode: int = SECRET_MODE, durable: bool = True) -> None:
    """Write ``data`` to ``path`` so readers see the old or the new file, never a mix; and,
    unless not *durable* (a snapshot rewritten every second), on disk before it returns."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _drop_orphans(path)
    if not durable:
        return
    with contextlib.suppress(OSError):  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


ORPHAN_AGE_S = 3600        # a temp file this old beside its target was left by a killed writer


def _drop_orphans(path: Path) -> None:
    """Remove *path*'s temp files that a writer killed mid-write left (kill -9 runs no cleanup:
    an ingest's half parts stayed for ever); young ones may be another writer's, kept."""
    import glob
    import time

    cutoff = time.time() - ORPHAN_AGE_S
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        with contextlib.suppress(OSError):
            if stale.stat().st_mtime < cutoff:
                stale.unlink()


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``<path>.lock`` for a read-modify-write."""
    import fcntl

    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, SECRET_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class FileWatch:
    """Whether a file another command rewrites (bundle promotions, the sandbox's faults) has
    changed, by its mtime and size, looking at most every *every_s*: the engine asks per
    order, and a stat per order cost a few per cent of its CPU. *absent*: the errors that
    mean "no such file" (its stamp is then None)."""

    def __init__(self, path, every_s: float = 0.1, absent: type[OSError] = FileNotFoundError):
        self.path, self.every_s, self.absent = str(path), every_s, absent
        self.stamp: tuple | None | bool = False        # False: never looked
        self._looked = float("-inf")

    def changed(self) -> bool:
        now = time.monotonic()
        if now - self._looked < self.every_s:
            return False
        self._looked = now
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_size)
        except self.absent:
            stamp = None
        if stamp == self.stamp:
            return False
        self.stamp = stamp
        return True
