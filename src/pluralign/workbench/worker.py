"""``python -m pluralign.workbench.worker JOB_ID``: run one workbench job (started by
:func:`pluralign.workbench.jobs.start`; the store's URL comes in ``$PLURALIGN_DATABASE_URL``).

The job's error is recorded as one line (a :class:`~pluralign.errors.PluralignError`'s message,
its class in the result's ``error``, or the exception's type and message); an unexpected
error's traceback is printed to this process's output, ``job.log`` in the job folder.
SIGTERM ends the job as failed ("stopped").
"""

from __future__ import annotations

import signal
import sys
import traceback
from pathlib import Path


def _stopped(signum, frame):
    raise SystemExit("stopped (SIGTERM)")


def main(argv: list[str]) -> int:
    from pluralign.errors import PluralignError
    from pluralign.store import open_store
    from pluralign.workbench import jobs, tasks

    signal.signal(signal.SIGTERM, _stopped)
    job_id = int(argv[0])
    store = open_store(None, migrate=False)
    job = jobs.mark_running(store, job_id)
    print(f"workbench job {job_id}: {job.kind}", flush=True)
    try:
        result = tasks.TASKS[job.kind](job.settings, Path(job.folder))
        jobs.finish(store, job_id, result=result, record=tasks.RECORDS.get(job.kind))
    except PluralignError as exc:
        print(exc.render(), flush=True)
        error = " ".join(exc.render(with_hint=False).split())  # one line
        jobs.finish(store, job_id, error=error, result={"error": type(exc).__name__})
        return 1
    except BaseException as exc:  # noqa: BLE001 - recorded for the page, traceback to the log
        traceback.print_exc()
        reason = str(exc) if isinstance(exc, SystemExit) else f"{type(exc).__name__}: {exc}"
        jobs.finish(store, job_id, error=" ".join(reason.split()) or type(exc).__name__)
        return 1
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
