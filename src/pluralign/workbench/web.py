"""The workbench's organiser pages, ``/admin/a/<slug>/workbench/…`` (admins only):

- ``interview``: chat turns with the configured model, each a background job (the page polls
  ``interview/status`` with htmx while the model answers); each turn proposes a clause the
  organiser accepts, edits or rejects; "Save as constitution" stores the accepted ones with
  provenance (``constitution.yaml`` downloads the latest).
- ``practice``: starts synthesis from the latest saved constitution as a background job; its
  progress, a sample of the pairs written so far and the quality-gate rejections are polled with
  htmx (``practice/status``).
- ``integration``: starts one round of the run engine (the stages of ``pluralign run``: the
  pairs split into training and held-out pairs, training, held-out evaluation, report) on the
  latest finished practice data as a background job; the loss curve grows as it runs
  (``integration/status``), then the held-out accuracy and the model folder are shown. Started
  again after a failure on the same data and settings, it goes on in the failed job's folder.

The model comes from the app's settings (``--workbench-llm``; default the embedded
SmolLM2-135M-Instruct), loaded in each job's process, never in the web server's; a model that
is down gives a message on the page and keeps what the organiser typed. Jobs:
:mod:`pluralign.workbench.jobs`.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pluralign.errors import N_, InputError, PluralignError
from pluralign.store.queries import get_assembly
from pluralign.web import i18n
from pluralign.web.deps import render, require_admin
from pluralign.workbench import interview as iv
from pluralign.workbench import jobs, tasks
from pluralign.workbench.models import DONE, FAILED, INTEGRATION, INTERVIEW, PRACTICE, WorkbenchJob

router = APIRouter(
    prefix="/admin/a/{slug}/workbench",
    tags=["workbench"],
    dependencies=[Depends(require_admin)],
)
PHASES = ("interview", "practice", "integration")


def _store(request: Request):
    return request.app.state.store


def _settings(request: Request):
    return request.app.state.settings


def provider_settings(settings):
    """The workbench's provider settings: ``settings.workbench_llm`` (a YAML file), else the
    embedded model."""
    from pluralign.llm.config import ProviderSettings, provider_settings_from_yaml

    if settings.workbench_llm:
        return provider_settings_from_yaml(Path(settings.workbench_llm))
    return ProviderSettings(checkpoint="smollm2")


def _root(request: Request, slug: str) -> Path:
    return Path(_settings(request).workbench_dir).expanduser().resolve() / slug


def _lang(request: Request) -> str:
    return i18n.request_language(request)


def _error(request: Request, exc: PluralignError) -> str:
    return i18n.error_text(exc, _lang(request))


def _page(request: Request, slug: str, phase: str, ctx: dict, status: int = 200):
    return render(
        request,
        f"workbench/{phase}.html",
        {"phase": phase, "phases": PHASES, **ctx},
        status=status,
    )


# ------------------------------------------------------------------ interview


def _interview(
    request: Request,
    slug: str,
    *,
    message: str | None = None,
    error: str | None = None,
    status: int = 200,
    edits: dict[int, str] | None = None,
    title: str | None = None,
):
    """The interview page; ``message``, ``edits`` (turn id → clause text) and ``title`` put
    back what the organiser typed when their request was refused."""
    from pluralign.llm.prompts import INTERVIEW_QUESTIONS

    _, _, job = _latest_turn_job(request, slug)
    with _store(request).session() as s:
        assembly = get_assembly(s, slug)
        turns = iv.turns(s, assembly.id)
        saved = iv.latest_constitution(s, assembly.id)
        asked = {t.question for t in turns}
        suggestion = next((q for q in INTERVIEW_QUESTIONS if q not in asked), "")
        if message is None and job is not None:  # running, or failed: the message stays
            message = job["message"]
        ctx = {
            "assembly": assembly,
            "turns": turns,
            "saved": saved,
            "job": job,
            "message": suggestion if message is None else message,
            "edits": edits or {},
            "title": title,
            "error": error,
            "notice": request.query_params.get("notice"),
            "accepted": sum(iv.clause_text(t) is not None for t in turns),
            "model": provider_settings(_settings(request)).label(),
        }
        return _page(request, slug, "interview", ctx, status)


@router.get("/interview")
def interview_page(request: Request, slug: str):
    return _interview(request, slug)


def _turn_view(request: Request, job: WorkbenchJob | None) -> dict | None:
    """The latest interview job as the page shows it: running (its step and seconds so far),
    or failed with one line saying why; None when there is none or it is done."""
    if job is None or job.state == DONE:
        return None
    view = {
        "id": job.id,
        "state": job.state,
        "active": job.slot is not None,
        "message": str((job.settings or {}).get("message", "")),
        "step": tasks.interview_progress(Path(job.folder)) if job.folder else "starting",
        "seconds": None,
        "error": None,
    }
    since = job.started_at or job.created_at
    if view["active"] and since is not None:
        from pluralign.store.models import utcnow

        now = utcnow()
        since = since if since.tzinfo else since.replace(tzinfo=now.tzinfo)
        view["seconds"] = max(0, int((now - since).total_seconds()))
    if job.state == FAILED:
        lang = _lang(request)
        error = job.error or "?"
        if (job.result or {}).get("error") == "ProviderError":
            view["error"] = i18n.gettext(
                "The model did not answer: %(error)s. Your message is kept below; send it again "
                "when the model is back.",
                lang,
                error=error,
            )
        else:
            view["error"] = i18n.gettext(
                "The turn failed: %(error)s. Your message is kept below; send it again.",
                lang,
                error=error,
            )
    return view


def _latest_turn_job(request: Request, slug: str):
    store = _store(request)
    jobs.refresh(store)
    with store.session() as s:
        assembly = get_assembly(s, slug)
        job = jobs.latest(s, assembly.id, INTERVIEW)
        return assembly, job, _turn_view(request, job)


@router.post("/interview/turn")
async def interview_turn(request: Request, slug: str):
    """Send the organiser's message: start the turn's background job (the model answers in
    its own process; the page polls ``interview/status``)."""
    form = await request.form()
    message = str(form.get("message", ""))
    store = _store(request)
    try:
        text = iv.check_message(message)
        with store.session() as s:
            assembly_id = get_assembly(s, slug).id
            history = [[t.question, t.answer] for t in iv.turns(s, assembly_id)]
        settings = {
            "message": text,
            "history": history,
            "llm": provider_settings(_settings(request)).model_dump(mode="json"),
        }
        await run_in_threadpool(
            jobs.start, store, assembly_id, INTERVIEW, settings, _root(request, slug)
        )
    except InputError as exc:
        status = 409 if exc.where == "start" else 400
        return _interview(request, slug, message=message, error=_error(request, exc), status=status)
    return RedirectResponse(f"/admin/a/{slug}/workbench/interview#send-message", status_code=303)


@router.get("/interview/status")
def interview_status(request: Request, slug: str):
    """The running turn's state for htmx polling; when the turn has ended, an ``HX-Redirect``
    to the interview page (which then shows the new turn, or the error with the message)."""
    assembly, job, view = _latest_turn_job(request, slug)
    response = render(request, "workbench/_interview_job.html", {"assembly": assembly, "job": view})
    if view is None or not view["active"]:
        if job is None:
            target = ""
        elif job.state == DONE:
            turn = (job.result or {}).get("turn") or {}
            target = f"?job={job.id}#turn-{turn.get('id', '')}"
        else:
            target = f"?job={job.id}#send-message"
        response.headers["HX-Redirect"] = f"/admin/a/{slug}/workbench/interview{target}"
    return response


@router.post("/interview/decide")
async def interview_decide(request: Request, slug: str):
    form = await request.form()
    text = str(form.get("text", ""))
    try:
        with _store(request).session() as s:
            assembly = get_assembly(s, slug)
            iv.decide(
                s,
                assembly.id,
                str(form.get("turn", "")),
                str(form.get("decision", "")),
                text,
            )
    except InputError as exc:
        turn = str(form.get("turn", ""))
        edits = {int(turn): text} if turn.isdigit() else None
        return _interview(request, slug, error=_error(request, exc), status=400, edits=edits)
    return RedirectResponse(
        f"/admin/a/{slug}/workbench/interview#turn-{form.get('turn')}", status_code=303
    )


@router.post("/interview/save")
async def interview_save(request: Request, slug: str):
    form = await request.form()
    try:
        with _store(request).session() as s:
            assembly = get_assembly(s, slug)
            model = provider_settings(_settings(request)).label()
            saved = iv.save_constitution(s, assembly, model, str(form.get("title", "")))
            n = saved.clauses
    except InputError as exc:
        title = str(form.get("title", ""))
        return _interview(request, slug, error=_error(request, exc), status=400, title=title)
    notice = i18n.ngettext(
        "Saved a constitution of %(n)s clause.",
        "Saved a constitution of %(n)s clauses.",
        n,
        _lang(request),
    )
    from urllib.parse import quote

    return RedirectResponse(
        f"/admin/a/{slug}/workbench/interview?notice={quote(notice)}#saved", status_code=303
    )


@router.get("/constitution.yaml")
def constitution_download(request: Request, slug: str):
    with _store(request).session() as s:
        assembly = get_assembly(s, slug)
        saved = iv.latest_constitution(s, assembly.id)
        if saved is None:
            raise InputError(
                N_("no constitution saved yet"), hint=N_("save one on the interview page")
            )
        body = saved.yaml
    return Response(
        body,
        media_type="application/yaml",
        headers={"content-disposition": f'attachment; filename="{slug}-constitution.yaml"'},
    )


# ------------------------------------------------------------------ jobs


def _job_view(job: WorkbenchJob | None) -> dict | None:
    if job is None:
        return None
    folder = Path(job.folder)
    view = {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "error": job.error,
        "result": job.result or {},
        "settings": job.settings or {},
        "folder": job.folder,
        "active": job.slot is not None,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "log": folder / jobs.LOG,
    }
    if job.kind == PRACTICE:
        view["progress"] = tasks.practice_progress(folder)
    else:
        progress = tasks.integration_progress(folder)
        view["progress"] = progress
        view["svg"] = tasks.loss_path(progress["curve"])
    return view


def _job_context(request: Request, slug: str, kind: str) -> dict:
    store = _store(request)
    jobs.refresh(store)
    with store.session() as s:
        assembly = get_assembly(s, slug)
        job = jobs.latest(s, assembly.id, kind)
        other = jobs.active(s)
        ctx = {
            "assembly": assembly,
            "job": _job_view(job),
            "busy": other is not None and (job is None or other.id != job.id),
            "saved": iv.latest_constitution(s, assembly.id),
            "practice": _job_view(jobs.latest(s, assembly.id, PRACTICE, DONE)),
        }
    return ctx


def _job_page(request: Request, slug: str, kind: str, error: str | None = None, status=200):
    ctx = _job_context(request, slug, kind)
    ctx.update(error=error, model=provider_settings(_settings(request)).label())
    ctx["base_model"] = _settings(request).workbench_base_model
    return _page(request, slug, kind, ctx, status)


def _number(form, name: str, default: int, low: int, high: int) -> int:
    raw = str(form.get(name) or default)
    try:
        value = int(raw)
    except ValueError:
        raise InputError(N_("%(field)s must be a whole number", field=name), where=name) from None
    if not low <= value <= high:
        raise InputError(
            N_("%(field)s must be between %(low)s and %(high)s", field=name, low=low, high=high),
            where=name,
        )
    return value


@router.get("/practice")
def practice_page(request: Request, slug: str):
    return _job_page(request, slug, PRACTICE)


@router.post("/practice/start")
async def practice_start(request: Request, slug: str):
    form = await request.form()
    store = _store(request)
    try:
        per_clause = _number(form, "questions_per_clause", 2, 1, 20)
        with store.session() as s:
            assembly = get_assembly(s, slug)
            saved = iv.latest_constitution(s, assembly.id)
            if saved is None:
                raise InputError(
                    N_("no constitution saved yet"), hint=N_("save one on the interview page")
                )
            assembly_id, yaml_text, saved_id = assembly.id, saved.yaml, saved.id
        settings = {
            "constitution_id": saved_id,
            "questions_per_clause": per_clause,
            "llm": provider_settings(_settings(request)).model_dump(mode="json"),
        }
        await run_in_threadpool(
            jobs.start,
            store,
            assembly_id,
            PRACTICE,
            settings,
            _root(request, slug),
            {tasks.CONSTITUTION: yaml_text},
        )
    except InputError as exc:
        return _job_page(request, slug, PRACTICE, _error(request, exc), status=409)
    return RedirectResponse(f"/admin/a/{slug}/workbench/practice", status_code=303)


@router.get("/practice/status")
def practice_status(request: Request, slug: str):
    ctx = _job_context(request, slug, PRACTICE)
    return render(request, "workbench/_practice_job.html", ctx)


@router.get("/integration")
def integration_page(request: Request, slug: str):
    return _job_page(request, slug, INTEGRATION)


@router.post("/integration/start")
async def integration_start(request: Request, slug: str):
    form = await request.form()
    store = _store(request)
    try:
        steps = _number(form, "max_steps", 20, 1, 2000)
        with store.session() as s:
            assembly = get_assembly(s, slug)
            practice = jobs.latest(s, assembly.id, PRACTICE, DONE)
            if practice is None or not (practice.result or {}).get("pairs"):
                raise InputError(
                    N_("no practice data with preference pairs yet"),
                    hint=N_("run the practice phase first"),
                )
            assembly_id, practice_id, folder = assembly.id, practice.id, Path(practice.folder)
            previous = jobs.latest(s, assembly.id, INTEGRATION)
            previous = (previous.state, previous.settings, previous.folder) if previous else None
        prompts = {r.get("prompt") for r in tasks.read_rows(folder / tasks.PAIRS)}
        if len(prompts) < 2:  # the run engine holds prompts out for its evaluation
            raise InputError(
                N_(
                    "the practice data has preference pairs for fewer than 2 questions; the "
                    "held-out evaluation needs at least 2"
                ),
                where="start",
                hint=N_("run practice again with more questions per clause"),
            )
        settings = {
            "practice_job": practice_id,
            "constitution": str(folder / tasks.CONSTITUTION),
            "pairs": str(folder / tasks.PAIRS),
            "base_model": _settings(request).workbench_base_model,
            "max_steps": steps,
        }
        resume = None  # a failed job on the same data and settings goes on in its folder
        if (
            previous is not None
            and previous[0] == FAILED
            and {k: v for k, v in (previous[1] or {}).items() if k != "resumes"} == settings
        ):
            resume = Path(previous[2])
            settings["resumes"] = previous[2]
        await run_in_threadpool(
            partial(jobs.start, folder=resume),
            store,
            assembly_id,
            INTEGRATION,
            settings,
            _root(request, slug),
        )
    except InputError as exc:
        return _job_page(request, slug, INTEGRATION, _error(request, exc), status=409)
    return RedirectResponse(f"/admin/a/{slug}/workbench/integration", status_code=303)


@router.get("/integration/status")
def integration_status(request: Request, slug: str):
    ctx = _job_context(request, slug, INTEGRATION)
    return render(request, "workbench/_integration_job.html", ctx)
