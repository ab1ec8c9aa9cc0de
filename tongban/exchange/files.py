"""Files written inside a transaction, placed so that a crash leaves no file without its row.

A message handler that stores files (a case transfer carries its materials) runs inside the inbox's
transaction. Written straight to their final names, the files of a transaction that never commits
(the process killed with -9 in the middle of an apply, the machine losing power) stay on disk with
no row pointing at them, and nothing would ever find them again. So:

1. :func:`stage` writes the content under ``<MEDIA_ROOT>/.staging/<final name>`` (flushed and
   ``fsync``-ed) and gives the file field its final name; the row is saved with that name.
2. After the transaction commits, the file is moved to its final name (``os.replace``: atomic on one
   file system). If the transaction rolls back, nothing is moved.
3. :func:`sweep` (the worker every ``TONGBAN_EXCHANGE_MAINTENANCE_SECONDS``; ``tongban federation
   sweep-files``) finishes what a crash interrupted: a staged file whose row committed is moved into
   place (the crash came between commit and move); one without a row, older than
   ``TONGBAN_ORPHAN_FILE_GRACE_SECONDS``, is deleted (its transaction died). It also deletes files
   at final names in the registered directories (:func:`register`) that no row refers to and that
   are older than the grace period: what writers that do not stage (or older versions) left behind.

Between the commit and the move (microseconds, or until the next sweep after a crash at exactly
that moment) the row's file is still under ``.staging``; :func:`open_file` finds it there.

Only storages with local paths (``FileSystemStorage``) are staged; others get the file written
directly, and the sweep of final names is what cleans up after them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

logger = logging.getLogger(__name__)

STAGING = ".staging"
_CHUNK = 1000


@dataclass(frozen=True)
class Swept:
    """A directory of the media storage whose files belong to ``model.field`` (one row per file)."""

    prefix: str  # e.g. "cases/": files under it are referenced by model.<field>
    model: str  # "app_label.ModelName"
    field: str


_registry: dict[str, Swept] = {}


def register(*, prefix: str, model: str, field: str) -> None:
    """Declares that every file under ``prefix`` of the default storage is referenced by a row of
    ``model`` in ``field``: the sweeper may delete one no row refers to. Call from ``AppConfig.ready``."""
    prefix = prefix.strip("/") + "/"
    if not prefix.strip("/") or prefix.startswith(STAGING):
        raise ValueError(f"not a directory the sweeper may own: {prefix!r}")
    _registry[prefix] = Swept(prefix, model, field)


def registered() -> list[Swept]:
    return sorted(_registry.values(), key=lambda s: s.prefix)


def _local_root(storage) -> Path | None:
    try:
        return Path(storage.path(""))
    except NotImplementedError:
        return None


def staged_path(storage, name: str) -> Path:
    root = _local_root(storage)
    if root is None:
        raise ValueError("the storage has no local paths")
    return root / STAGING / name


def stage(field_file, content) -> Path | None:
    """Writes ``content`` (a Django ``File``) for ``field_file`` (the file field of a row about to be
    saved, in the current transaction) under its staging name, sets the field to its final name and
    moves the file there once the transaction commits. Returns the staged path (for the caller to
    delete if it gives up before the commit), or None where the storage has no local paths and the
    file was written directly.
    """
    storage = field_file.storage
    if _local_root(storage) is None:
        field_file.save("upload", content, save=False)
        return None
    name = field_file.field.generate_filename(field_file.instance, "upload")
    if _swept_for(name) is None:  # the sweeper must be able to tell a committed file from a dead one
        raise ValueError(f"{name}: register its directory with files.register() before staging files there")
    staged = staged_path(storage, name)
    # The name is random (uuid4): a clash with a placed or staged file means a bug, not bad luck.
    if storage.exists(name) or staged.exists():
        raise FileExistsError(name)
    staged.parent.mkdir(parents=True, exist_ok=True)
    content.seek(0)
    with open(staged, "xb") as out:
        for chunk in content.chunks():
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    field_file.name = name
    transaction.on_commit(lambda: _promote(storage, name))
    return staged


def _promote(storage, name: str) -> bool:
    """Moves the staged file of ``name`` to its final place; False if it is not staged (any more)."""
    staged = staged_path(storage, name)
    final = Path(storage.path(name))
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, final)
    except FileNotFoundError:  # moved already (by the sweeper, or the commit hook)
        return False
    except OSError:  # the sweeper will move it
        logger.exception("could not move %s into place", name)
        return False
    # No fsync of the directory: should the rename be lost with the machine's power, the file is
    # staged again under a committed row, and the sweep moves it (the content was fsync-ed before
    # the commit). Renames alone keep the moment between commit and move to microseconds.
    return True


def discard(staged: Path | None) -> None:
    """Deletes a staged file whose transaction will not commit."""
    if staged is not None:
        with contextlib.suppress(OSError):
            staged.unlink()


def open_file(field_file, mode: str = "rb"):
    """Opens the row's file, at its final name or, between commit and move, where it is staged."""
    try:
        return field_file.storage.open(field_file.name, mode)
    except FileNotFoundError:
        root = _local_root(field_file.storage)
        if root is None:
            raise
        return open(root / STAGING / field_file.name, mode)


# --- The sweeper ----------------------------------------------------------------------------------


@dataclass
class SweepReport:
    promoted: int = 0  # staged files of committed rows moved into place
    deleted_staged: int = 0  # staged files of transactions that never committed
    deleted_orphans: int = 0  # files at final names no row refers to
    kept_young: int = 0  # unreferenced, but younger than the grace period
    errors: list[str] = field(default_factory=list)

    @property
    def did_work(self) -> bool:
        return bool(self.promoted or self.deleted_staged or self.deleted_orphans or self.errors)


def _swept_for(name: str) -> Swept | None:
    for swept in _registry.values():
        if name.startswith(swept.prefix):
            return swept
    return None


def _referenced(swept: Swept, names: list[str]) -> set[str]:
    from django.apps import apps

    model = apps.get_model(swept.model)
    return set(
        model._default_manager.filter(**{f"{swept.field}__in": names}).values_list(swept.field, flat=True)
    )


def _walk(root: Path):
    """(relative name, path) of every file under ``root``."""
    for directory, _dirs, files in os.walk(root):
        for file_name in files:
            path = Path(directory) / file_name
            yield path.relative_to(root).as_posix(), path


def _age(path: Path, now: float) -> float | None:
    try:
        return now - path.stat().st_mtime
    except FileNotFoundError:
        return None


def finish_staged(*, storage=None) -> SweepReport:
    """Only the first part of :func:`sweep`, and only what is certain at once: moves into place the
    staged files whose rows committed (a crash came between commit and move). Cheap (the staging
    directory holds only what crashes left); the worker runs it when it starts."""
    return sweep(grace_seconds=float("inf"), storage=storage, staged_only=True)


def sweep(
    *, grace_seconds: float | None = None, now: float | None = None, storage=None, staged_only: bool = False
) -> SweepReport:
    """Finishes or removes what crashes left in the media storage (see the module's description).

    ``now`` is a Unix time (tests move it forward); ``grace_seconds`` defaults to
    ``TONGBAN_ORPHAN_FILE_GRACE_SECONDS``.
    """
    from django.core.files.storage import default_storage

    from tongban.exchange.conf import setting

    storage = storage or default_storage
    report = SweepReport()
    root = _local_root(storage)
    if root is None or not root.exists():
        return report
    grace = setting("ORPHAN_FILE_GRACE_SECONDS") if grace_seconds is None else grace_seconds
    now = time.time() if now is None else now

    # 1. Staged files: a committed row → into place; no row and old → its transaction died.
    staging = root / STAGING
    batch: list[tuple[str, Path]] = []

    def staged_batch() -> None:
        by_swept: dict[Swept | None, list[tuple[str, Path]]] = {}
        for name, path in batch:
            by_swept.setdefault(_swept_for(name), []).append((name, path))
        for swept, items in by_swept.items():
            known = _referenced(swept, [n for n, _ in items]) if swept else set()
            for name, path in items:
                if name in known:
                    if _promote(storage, name):
                        report.promoted += 1
                        logger.warning("sweep: %s was committed but not moved into place; moved", name)
                    continue
                age = _age(path, now)
                if age is None:
                    continue
                if age < grace:
                    report.kept_young += 1
                    continue
                try:
                    path.unlink()
                    report.deleted_staged += 1
                    logger.warning("sweep: deleted %s, staged by a transaction that never committed", name)
                except OSError as exc:
                    report.errors.append(f"{name}: {exc}")
        batch.clear()

    if staging.exists():
        for item in _walk(staging):
            batch.append(item)
            if len(batch) >= _CHUNK:
                staged_batch()
        if batch:
            staged_batch()
        if not staged_only:
            _remove_empty_dirs(staging, older_than=now - grace)

    # 2. Final names in the registered directories that no row refers to.
    for swept in [] if staged_only else registered():
        base = root / swept.prefix
        if not base.exists():
            continue
        old: list[tuple[str, Path]] = []
        for rel, path in _walk(base):
            age = _age(path, now)
            if age is None or age < grace:
                continue
            old.append((f"{swept.prefix}{rel}", path))
            if len(old) >= _CHUNK:
                _delete_unreferenced(swept, old, report)
                old = []
        if old:
            _delete_unreferenced(swept, old, report)
    return report


def _delete_unreferenced(swept: Swept, items: list[tuple[str, Path]], report: SweepReport) -> None:
    known = _referenced(swept, [name for name, _ in items])
    for name, path in items:
        if name in known:
            continue
        try:
            path.unlink()
            report.deleted_orphans += 1
            logger.warning("sweep: deleted %s, which no %s refers to", name, swept.model)
        except OSError as exc:
            report.errors.append(f"{name}: {exc}")


def _remove_empty_dirs(top: Path, *, older_than: float) -> None:
    """Removes empty directories under ``top`` (not ``top``) not changed since ``older_than`` (a
    younger one may be about to receive a staged file)."""
    for directory, _dirs, _files in os.walk(top, topdown=False):
        path = Path(directory)
        if path == top:
            continue
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < older_than:
                os.rmdir(path)  # only succeeds when empty


def sweep_files_arguments(parser) -> None:
    parser.add_argument(
        "--grace-seconds",
        type=int,
        default=None,
        help="只处理早于这么多秒的无主文件（默认 TONGBAN_ORPHAN_FILE_GRACE_SECONDS）",
    )


def sweep_files_command(command, options: dict) -> None:
    report = sweep(grace_seconds=options.get("grace_seconds"))
    command.stdout.write(
        f"已归位 {report.promoted} 个已提交但未移入的文件，删除 {report.deleted_staged} 个未提交事务留下的暂存文件、"
        f"{report.deleted_orphans} 个无记录引用的文件；{report.kept_young} 个尚在宽限期内，保留。"
    )
    for error in report.errors:
        command.stderr.write(error)
