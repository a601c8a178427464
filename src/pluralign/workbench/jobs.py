"""The workbench's background jobs: one at a time, each in its own process, state in the store.

:func:`start` inserts a :class:`~pluralign.workbench.models.WorkbenchJob` holding the single
``slot = "active"`` (unique in the table), so a second start while one job is queued or running
fails at the database, across every web worker process, and gets a clear message naming the
running job. It then writes the job's input files into the job folder and starts
``python -m pluralign.workbench.worker JOB_ID`` in a new session, its output going to
``job.log`` in that folder. The worker marks the job running, runs its task
(:mod:`pluralign.workbench.tasks`) and records ``done`` with the result, or ``failed`` with a
one-line error (the traceback of an unexpected error goes to ``job.log``, never to a page); either
way it frees the slot.

A job whose process is gone while the store still says it runs (killed, the machine restarted)
is marked failed by :func:`refresh`, which every workbench page calls, so the slot never stays
taken. Process ids are checked on this machine: run the workbench's web workers on one host.
A job outlives a page reload and a restart of the web server (its process is not the server's).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pluralign.errors import N_, InputError
from pluralign.store.models import utcnow
from pluralign.workbench.models import (
    ACTIVE,
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    WorkbenchJob,
)

LOG = "job.log"
STARTUP_SECONDS = 120
"""A queued job whose process never reported within this long is marked failed."""

_children: dict[int, subprocess.Popen] = {}
"""Processes this server started (polled so that a finished one is reaped, not a zombie)."""


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    child = _children.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        del _children[pid]
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user holds the id: not our worker
        return False
    return True


def refresh(store) -> None:
    """Mark failed every queued or running job whose process is gone."""
    now = utcnow()
    with store.session() as s:
        for job in s.scalars(select(WorkbenchJob).where(WorkbenchJob.slot == ACTIVE)):
            if _alive(job.pid):
                continue
            if job.pid is None:
                created = (
                    job.created_at
                    if job.created_at.tzinfo
                    else job.created_at.replace(tzinfo=now.tzinfo)
                )
                if (now - created).total_seconds() < STARTUP_SECONDS:
                    continue
            s.refresh(job)  # the worker may have finished between the query and now
            if job.slot != ACTIVE:
                continue
            job.state = FAILED
            job.error = job.error or "the job's process ended without finishing (see job.log)"
            job.slot = None
            job.finished_at = now


def active(s) -> WorkbenchJob | None:
    return s.scalar(select(WorkbenchJob).where(WorkbenchJob.slot == ACTIVE))


def latest(s, assembly_id: int, kind: str, state: str | None = None) -> WorkbenchJob | None:
    q = select(WorkbenchJob).where(
        WorkbenchJob.assembly_id == assembly_id, WorkbenchJob.kind == kind
    )
    if state is not None:
        q = q.where(WorkbenchJob.state == state)
    return s.scalar(q.order_by(WorkbenchJob.id.desc()).limit(1))


def start(
    store,
    assembly_id: int,
    kind: str,
    settings: dict,
    root: Path,
    files: dict[str, str] | None = None,
    folder: Path | None = None,
) -> int:
    """Queue a ``kind`` job and start its process; returns the job id. :class:`InputError`
    when another job holds the slot. The job's folder is ``root/<kind>-<id>``, or ``folder``
    (an earlier job's, which the new one resumes)."""
    refresh(store)
    try:
        with store.session() as s:
            job = WorkbenchJob(
                assembly_id=assembly_id, kind=kind, state=QUEUED, slot=ACTIVE, settings=settings
            )
            s.add(job)
            s.flush()
            folder = Path(folder or Path(root) / f"{kind}-{job.id}").resolve()
            job.folder = str(folder)
            job_id = job.id
    except IntegrityError:
        with store.session() as s:
            other = active(s)
            what = f"{other.kind} job {other.id}" if other else "another job"
        raise InputError(
            N_("%(job)s is still running: wait for it to finish", job=what),
            where="start",
            hint=N_("one job runs at a time (they share the processor)"),
        ) from None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in (files or {}).items():
            (folder / name).write_text(text, encoding="utf-8")
        env = {**os.environ, "PLURALIGN_DATABASE_URL": store.url}
        src = str(Path(__file__).resolve().parents[2])  # the pluralign this server runs
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
        with open(folder / LOG, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "pluralign.workbench.worker", str(job_id)],
                cwd=folder,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    except OSError as exc:
        finish(store, job_id, error=f"could not start the job's process: {exc}")
        raise InputError(N_("could not start the job: %(error)s", error=str(exc))) from None
    _children[proc.pid] = proc
    with store.session() as s:
        job = s.get(WorkbenchJob, job_id)
        if job.pid is None:
            job.pid = proc.pid
    return job_id


def mark_running(store, job_id: int) -> WorkbenchJob:
    """Called by the worker: the job runs in this process."""
    with store.session() as s:
        job = s.get(WorkbenchJob, job_id)
        if job is None:
            raise InputError(f"no workbench job {job_id}")
        job.state = RUNNING
        job.pid = os.getpid()
        job.started_at = utcnow()
        s.flush()
        s.expunge(job)
        return job


def finish(
    store,
    job_id: int,
    *,
    result: dict | None = None,
    error: str | None = None,
    record=None,
) -> None:
    """Record the end of a job (``done`` with ``result``, or ``failed`` with ``error``) and
    free the slot. ``record(session, job, result)`` writes what a done job adds to the store
    (an interview turn) in the same transaction, so the turn exists exactly when the job is
    done."""
    result = dict(result or {})
    with store.session() as s:
        job = s.get(WorkbenchJob, job_id)
        if error is None and record is not None:
            record(s, job, result)
        job.state = FAILED if error is not None else DONE
        job.error = error
        job.result = result
        job.slot = None
        job.finished_at = utcnow()


__all__ = ["DONE", "FAILED", "active", "finish", "latest", "mark_running", "refresh", "start"]
