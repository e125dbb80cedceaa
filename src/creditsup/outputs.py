"""Safe outputs: never destroy what creditsup did not write; atomic, recoverable writes.

Every ``--out`` of the command line, and :meth:`InspectionPlan.save`, goes
through this module. The rules:

- **Ownership.** A folder is replaced only when creditsup wrote it: a plan
  bundle (its ``provenance.json`` names a ``creditsup-draw`` algorithm) or a
  folder holding the marker file ``.creditsup.json``. An empty folder may be
  written into. Anything else is refused with
  :class:`~creditsup.exceptions.UnsafeOutputError`, naming the folder. A file
  is replaced only when the caller recognises it as one of creditsup's own.
- **Protected paths.** The input folder of a command, any of its ancestors,
  and the current directory or its ancestors are never replaced.
- **Atomic replacement with recovery.** A folder is written as
  ``.NAME.creditsup-partial-PID``, renamed to ``.NAME.creditsup-new-PID`` once
  complete and flushed, then swapped in: the old folder is renamed to
  ``.NAME.creditsup-old-PID``, the new one to ``NAME``, and the old one removed.
  A kill at any point leaves a complete folder at ``NAME``, or a complete
  ``-new-``/``-old-`` folder beside it that :func:`recover` (run first by every
  command on that path) renames back into place; stale temporaries are removed.
- **One writer at a time.** Writers and recovery hold an exclusive lock on the
  parent folder (``flock``); a second run waits up to ``wait`` seconds and then
  fails with :class:`~creditsup.exceptions.OutputBusyError`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from creditsup.exceptions import OutputBusyError, UnsafeOutputError

__all__ = [
    "MARKER",
    "check_output",
    "contains",
    "fsync_dir",
    "mark_folder",
    "output_lock",
    "owned_folder_kind",
    "recover",
    "replace_file",
    "replace_folder",
    "starts_with",
    "write_atomic",
]

logger = logging.getLogger(__name__)

#: The marker file in every folder creditsup writes (other than plan bundles).
MARKER = ".creditsup.json"
_PARTIAL, _NEW, _OLD = "creditsup-partial", "creditsup-new", "creditsup-old"


def fsync_dir(path: str | Path) -> None:
    """Flush a folder's entry table to disk (after a rename inside it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file, fsync, rename.

    A reader sees the old file or the new one, never a half-written file, even
    if the process is killed in between.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        fsync_dir(target.parent)
    finally:
        if tmp.exists():  # pragma: no cover - only after a failed write
            tmp.unlink()


def _version() -> str:
    from creditsup import __version__

    return __version__  # the code that ran, not the installed metadata


def _marker_bytes(kind: str) -> bytes:
    return json.dumps({"creditsup": _version(), "kind": kind}, sort_keys=True).encode()


def mark_folder(path: str | Path, kind: str) -> None:
    """Mark a folder creditsup filled file by file as its own (``kind``)."""
    write_atomic(Path(path) / MARKER, _marker_bytes(kind))


def owned_folder_kind(path: str | Path) -> str | None:
    """What creditsup wrote at ``path`` (``"plan"``, a marker's kind), else ``None``.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> owned_folder_kind(d) is None
    True
    >>> _ = (d / MARKER).write_text('{"kind": "public"}')
    >>> owned_folder_kind(d)
    'public'
    """
    root = Path(path)
    marker = root / MARKER
    try:
        if marker.is_file():
            kind = json.loads(marker.read_text("utf-8")).get("kind")
            return str(kind) if kind else None
        prov = root / "provenance.json"
        if prov.is_file():
            algorithm = str(json.loads(prov.read_text("utf-8")).get("algorithm", ""))
            return "plan" if algorithm.startswith("creditsup-draw") else None
    except (OSError, ValueError, AttributeError):
        return None
    return None


def _is_within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def _refuse(path: Path, why: str) -> UnsafeOutputError:
    return UnsafeOutputError(
        f"The output '{path}' {why}. creditsup never replaces what it did not "
        "write: choose a new path."
    )


def check_output(
    path: str | Path,
    *,
    kinds: Sequence[str],
    folder: bool = True,
    protect: Sequence[str | Path] = (),
    owned_file: Callable[[Path], bool] | None = None,
) -> Path:
    """Check that writing ``path`` cannot destroy anything creditsup did not write.

    Parameters
    ----------
    path : path-like
        The output.
    kinds : sequence of str
        The kinds of creditsup folder that may be replaced (``"plan"``, ...).
    folder : bool
        Whether the output is a folder (else a file).
    protect : sequence of path-like
        Inputs of the command: neither they nor their ancestors may be replaced.
    owned_file : callable, optional
        For a file output: tells whether an existing file is creditsup's own.

    Returns
    -------
    pathlib.Path
        The absolute output path.

    Raises
    ------
    UnsafeOutputError
        Naming the path and the reason.
    """
    target = Path(os.path.abspath(path))
    for p in [*protect, Path.cwd()]:
        q = Path(os.path.abspath(p))
        if _is_within(q, target):
            what = "the current folder" if p == Path.cwd() else f"the input '{p}'"
            raise _refuse(target, f"is {what} or contains it")
    if not os.path.lexists(target):
        return target
    if target.is_symlink():
        raise _refuse(target, "is a symbolic link")
    if folder:
        if not target.is_dir():
            raise _refuse(target, "is a file, and a folder is needed here")
        if any(target.iterdir()) and owned_folder_kind(target) not in kinds:
            raise _refuse(target, "is a folder that creditsup did not write")
        return target
    if target.is_dir():
        raise _refuse(target, "is a folder, and a file is needed here")
    if owned_file is None or not owned_file(target):
        raise _refuse(target, "is a file that creditsup did not write")
    return target


@contextlib.contextmanager
def output_lock(path: str | Path, *, wait: float = 30.0) -> Iterator[None]:
    """Hold an exclusive lock on ``path``'s parent folder (one writer at a time)."""
    parent = Path(os.path.abspath(path)).parent
    parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks
        yield
        return
    fd = os.open(parent, os.O_RDONLY)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputBusyError(
                        f"Another creditsup run is writing in '{parent}'; waited "
                        f"{wait:.0f} s. Try again when it has finished."
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _temps(target: Path, tag: str) -> list[Path]:
    return sorted(target.parent.glob(f".{target.name}.{tag}-*"))


def recover(path: str | Path) -> bool:
    """Put back a folder left aside by a killed write; remove stale temporaries.

    Call it with :func:`output_lock` held. Returns ``True`` when a folder was
    put back at ``path``.
    """
    target = Path(os.path.abspath(path))
    if not target.parent.is_dir():
        return False
    restored = False
    if not os.path.lexists(target):
        for tag in (_NEW, _OLD):  # a complete new folder wins over the old one
            found = _temps(target, tag)
            if found:
                os.replace(found[-1], target)
                fsync_dir(target.parent)
                logger.warning("recovered %s from %s", target, found[-1].name)
                restored = True
                break
    for tag in (_PARTIAL, _NEW, _OLD):
        for stale in _temps(target, tag):
            shutil.rmtree(stale, ignore_errors=True)
    for stale in target.parent.glob(f".{target.name}.tmp-*"):
        stale.unlink(missing_ok=True)
    return restored


def replace_folder(
    path: str | Path,
    files: Mapping[str, bytes],
    *,
    kind: str,
    protect: Sequence[str | Path] = (),
    marker: bool = True,
) -> Path:
    """Write ``files`` as the folder ``path``, atomically and safely.

    Parameters
    ----------
    path : path-like
        The folder to write (new, empty, or one creditsup wrote of this kind).
    files : mapping of str to bytes
        Relative path -> content.
    kind : str
        What the folder is; recorded in the marker file.
    protect : sequence of path-like
        Inputs that must not be replaced (see :func:`check_output`).
    marker : bool
        Write the marker file (plan bundles are recognised by their provenance).
    """
    target = check_output(path, kinds=(kind,), protect=protect)
    content = dict(files)
    if marker:
        content[MARKER] = _marker_bytes(kind)
    with output_lock(target):
        recover(target)
        check_output(target, kinds=(kind,), protect=protect)  # after recovery
        partial = target.parent / f".{target.name}.{_PARTIAL}-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        try:
            for name, data in content.items():
                write_atomic(partial / name, data)
            fsync_dir(partial)
            new = target.parent / f".{target.name}.{_NEW}-{os.getpid()}"
            os.replace(partial, new)
            _swap_in(new, target)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
    logger.info("%s written to %s", kind, target)
    return target


def _swap_in(new: Path, target: Path) -> None:
    if os.path.lexists(target):
        old = target.parent / f".{target.name}.{_OLD}-{os.getpid()}"
        os.replace(target, old)
        os.replace(new, target)
        fsync_dir(target.parent)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, target)
        fsync_dir(target.parent)


def replace_file(
    path: str | Path,
    data: bytes,
    *,
    owned: Callable[[Path], bool],
    protect: Sequence[str | Path] = (),
) -> Path:
    """Write one file atomically, replacing only a file creditsup wrote."""
    target = check_output(
        path, kinds=(), folder=False, protect=protect, owned_file=owned
    )
    with output_lock(target):
        recover(target)
        write_atomic(target, data)
    return target


def starts_with(prefix: bytes) -> Callable[[Path], bool]:
    """An ``owned`` test: the file begins with ``prefix`` (e.g. a known header)."""

    def test(path: Path) -> bool:
        try:
            with path.open("rb") as fh:
                return fh.read(len(prefix)) == prefix
        except OSError:
            return False

    return test


def contains(marker: bytes, *, head: int = 4096) -> Callable[[Path], bool]:
    """An ``owned`` test: the first ``head`` bytes of the file contain ``marker``."""

    def test(path: Path) -> bool:
        try:
            with path.open("rb") as fh:
                return marker in fh.read(head)
        except OSError:
            return False

    return test
