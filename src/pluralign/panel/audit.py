"""The audit bundle of a selection: ``DIR/audit.json``, and ``panel verify DIR`` that re-checks it.

``audit.json`` records everything needed to recompute a selection and to check its outputs: the
pool's sha256 (the pool itself holds personal data and stays where it is), the quotas (rows, file
sha256, any relaxation), the household column, the method and its settings, the solver and library
versions, the sha256 of ``probabilities.csv`` (and of ``lottery.csv`` with the lottery's figures),
the seed (an integer, or a public seed text) and the drawn ticket and panel, and any alternates.

:func:`verify_bundle` re-reads the pool and checks, each as one line of the report:

* the pool's sha256 and the quotas (file and rows) are those recorded;
* the selection, recomputed from them, gives the recorded relaxation and the probabilities in
  ``probabilities.csv`` (to 1e-7; the file's sha256 too);
* every ticket of ``lottery.csv`` meets the quotas and the household rule (checked on the pool
  itself, independently of the solver), the lottery's largest probability change is the recorded
  one, and rounding the recomputed distribution gives the same tickets;
* the ticket follows from the seed (``1 + sha256(seed text) mod M``), and ``panel.csv`` holds
  exactly that ticket's people (or, without a lottery, the panel the seed draws);
  every draw recorded in ``draws`` (:func:`draw_history`) follows from its own seed;
* the alternates (and, for ``panel replace``, the replacements) are recomputed identically.

Everything is deterministic (HiGHS runs single-threaded with a fixed random seed), so on the same
versions the recomputation is exact; the solver versions are recorded to explain a difference.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pluralign.errors import InputError, PluralignError

FORMAT = "pluralign-sortition-audit/1"
TOLERANCE = 1e-7


def environment() -> dict:
    """Versions of everything that computes the lottery."""
    import highspy
    import scipy

    from pluralign import __version__

    try:
        from importlib.metadata import version

        highs = version("highspy")
    except Exception:  # pragma: no cover - highspy installed without metadata
        highs = getattr(highspy, "__version__", "unknown")
    return {
        "pluralign": __version__,
        "solver": "HiGHS",
        "highspy": highs,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "python": platform.python_version(),
    }


def seed_ticket(seed: int, m: int) -> int:
    """The ticket an integer seed draws (when no public seed text is given)."""
    return 1 + int(np.random.default_rng([int(seed), 3]).integers(m))


def draw_history(audit: dict) -> list[dict]:
    """Every draw of this selection's lottery, oldest first: the ticket ``panel select`` picked
    (``by: select``) and each public ``panel draw`` (``seed_text``, ``ticket``, ``at`` in UTC).
    A redraw never erases an earlier one, so the bundle shows whether a lottery was drawn twice."""
    if audit.get("draws"):
        return [dict(d) for d in audit["draws"]]
    draw, seed = audit.get("draw") or {}, audit.get("seed") or {}
    if not audit.get("lottery") or draw.get("ticket") is None:
        return []
    first = {"by": "select", "ticket": draw["ticket"]}
    first.update({"seed_text": seed["text"]} if seed.get("text") else {"seed": seed.get("integer")})
    return [first]


def seed_from_text(text: str) -> int:
    """An integer seed from a public text: the first 8 bytes of its sha256 (big-endian)."""
    import hashlib

    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") >> 1


def quota_rows(quotas) -> list[list]:
    return [[q.feature, q.value, q.min, q.max] for q in quotas.items]


def quotas_from_rows(rows, source: str):
    from pluralign.panel.inputs import Quotas

    frame = pd.DataFrame(rows, columns=["feature", "value", "min", "max"])
    return Quotas.from_frame(frame.astype(str), source=source)


@dataclass(frozen=True)
class Check:
    """One line of the verification: what was checked, whether it holds, and the detail."""

    name: str
    ok: bool
    detail: str


def read_audit(folder: str | Path) -> dict:
    path = Path(folder) / "audit.json"
    if not path.is_file():
        raise InputError(
            "no audit.json here", where=str(folder), hint="give the --out folder of a selection"
        )
    try:
        audit = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", where=f"{path}, line {exc.lineno}") from exc
    if not isinstance(audit, dict) or audit.get("format") != FORMAT:
        raise InputError(f"not a sortition audit (format {FORMAT!r} expected)", where=str(path))
    return audit


def _file_check(folder: Path, record: dict | None, name: str) -> tuple[Check, Path | None]:
    from pluralign.io import sha256_file as sha256

    if not record:
        return Check(name, True, "none recorded"), None
    path = folder / record["file"]
    if not path.is_file():
        return Check(name, False, f"{path} is missing"), None
    digest = sha256(path)
    if digest != record["sha256"]:
        return Check(
            name,
            False,
            f"{path.name}: sha256 {digest[:12]}… ≠ recorded "
            f"{record['sha256'][:12]}… (the file was changed)",
        ), path
    return Check(name, True, f"{path.name} sha256 {digest[:12]}… as recorded"), path


def _pool(audit: dict, folder: Path, pool_path) -> tuple[Check, pd.DataFrame | None, str]:
    from pluralign.io import sha256_file as sha256
    from pluralign.panel.inputs import read_pool

    rec = audit["pool"]
    candidates = [Path(pool_path)] if pool_path else [Path(rec["path"]), folder / "pool.csv"]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        return Check("pool", False, f"pool not found at {rec['path']} (give --pool)"), None, ""
    digest = sha256(path)
    if digest != rec["sha256"]:
        return (
            Check("pool", False, f"{path}: sha256 {digest[:12]}… ≠ recorded {rec['sha256'][:12]}…"),
            None,
            str(path),
        )
    return (
        Check("pool", True, f"{path} sha256 {digest[:12]}… as recorded"),
        read_pool(path),
        str(path),
    )


def verify_bundle(folder: str | Path, pool_path=None) -> list[Check]:
    """Recompute and check the bundle in ``folder`` (module docstring); one :class:`Check` per
    item. Never raises for a failed check (they are reported); raises :class:`InputError` only
    for a folder that holds no readable ``audit.json``."""
    folder = Path(folder)
    audit = read_audit(folder)
    checks: list[Check] = []
    check, pool, source = _pool(audit, folder, pool_path)
    checks.append(check)
    if pool is None:
        return checks
    quotas = quotas_from_rows(audit["quotas"]["rows"], audit["quotas"].get("path") or "quotas")
    checks.append(_quotas_check(audit))
    try:
        if audit.get("kind") == "replace":
            checks += _verify_replace(audit, folder, pool, quotas, source)
        else:
            checks += _verify_select(audit, folder, pool, quotas, source)
    except PluralignError as exc:
        checks.append(Check("recompute", False, f"the recomputation failed: {exc.message}"))
    return checks


def _quotas_check(audit: dict) -> Check:
    from pluralign.io import sha256_file as sha256

    rec = audit["quotas"]
    path = Path(rec["path"]) if rec.get("path") else None
    if path is None or not path.is_file():
        return Check("quotas", True, "rows recorded in audit.json (file not at hand)")
    digest = sha256(path)
    if digest != rec["sha256"]:
        return Check("quotas", False, f"{path}: sha256 {digest[:12]}… ≠ recorded")
    return Check("quotas", True, f"{path} sha256 {digest[:12]}… as recorded")


def _settings(audit: dict) -> dict:
    s = audit["settings"]
    return {"gap": s["gap"], "samples": s["samples"], "time_limit": s["time_limit"]}


def _verify_select(audit, folder, pool, quotas, source) -> list[Check]:
    from pluralign.panel.lottery import read_lottery, ticket_from_seed, uniform_lottery
    from pluralign.panel.select import feasible_instance, select_panel

    out: list[Check] = []
    seed = audit["seed"]
    result = select_panel(
        pool,
        quotas,
        audit["size"],
        audit["method"],
        seed["integer"],
        pool_source=source,
        households=audit["households"],
        relax=audit["quotas"]["relax"],
        **_settings(audit),
    )
    relaxed = [c["text"] for c in result.stats.get("relaxed", [])]
    recorded = [c["text"] for c in audit["quotas"].get("relaxed", [])]
    out.append(
        Check(
            "relaxation",
            relaxed == recorded,
            "; ".join(relaxed)
            if relaxed
            else "no relaxation (as recorded)"
            if relaxed == recorded
            else f"recomputed {relaxed}, recorded {recorded}",
        )
    )
    check, path = _file_check(folder, audit["probabilities"], "probabilities")
    out.append(check)
    if path is not None:
        probs = pd.read_csv(path, dtype={"id": str})
        mine = dict(zip(result.ids, result.probabilities, strict=True))
        diff = max(
            abs(float(p) - mine.get(str(i), np.inf))
            for i, p in zip(probs["id"], probs["probability"], strict=True)
        )
        same_people = sorted(map(str, probs["id"])) == sorted(result.ids)
        out.append(
            Check(
                "probabilities recomputed",
                same_people and diff <= TOLERANCE,
                f"largest difference {diff:.1e} (tolerance {TOLERANCE:g})"
                if same_people
                else "probabilities.csv lists other people than the pool",
            )
        )
    inst, _ = feasible_instance(
        pool,
        quotas,
        audit["size"],
        pool_source=source,
        households=audit["households"],
        relax=audit["quotas"]["relax"],
    )
    index = {pid: i for i, pid in enumerate(inst.ids)}
    lottery_rec = audit.get("lottery")
    ticket_ids = None
    if lottery_rec:
        check, path = _file_check(folder, lottery_rec, "lottery")
        out.append(check)
        if path is not None:
            lottery = read_lottery(path)
            bad = [
                j
                for j, t in enumerate(lottery.tickets, start=1)
                if any(p not in index for p in t) or not inst.meets([index[p] for p in t])
            ]
            out.append(
                Check(
                    "tickets meet quotas and households",
                    not bad,
                    f"all {lottery.size} tickets" if not bad else f"tickets {bad[:5]} do not",
                )
            )
            freq = lottery.frequencies(inst.ids)
            change = float(np.abs(freq - result.probabilities).max())
            out.append(
                Check(
                    "largest probability change",
                    abs(change - lottery_rec["largest_change"]) <= 1e-6,
                    f"{change:.6f} (recorded {lottery_rec['largest_change']:.6f})",
                )
            )
            again = uniform_lottery(result, lottery_rec["tickets"])
            out.append(
                Check(
                    "lottery recomputed",
                    again.tickets == lottery.tickets,
                    "the same tickets"
                    if again.tickets == lottery.tickets
                    else "rounding the recomputed distribution gives other tickets"
                    + _versions_note(audit),
                )
            )
            draw = audit["draw"]
            expected = (
                ticket_from_seed(seed["text"], lottery.size)
                if seed.get("text")
                else seed_ticket(seed["integer"], lottery.size)
            )
            out.append(
                Check(
                    "ticket from seed",
                    expected == draw["ticket"],
                    f"ticket {expected} of {lottery.size}"
                    + (
                        f" from seed text {seed['text']!r}"
                        if seed.get("text")
                        else f" from integer seed {seed['integer']}"
                    )
                    + ("" if expected == draw["ticket"] else f", recorded {draw['ticket']}"),
                )
            )
            ticket_ids = lottery.ticket(expected)
            if audit.get("draws"):
                out.append(_history_check(audit["draws"], draw, lottery.size))
    else:
        ticket_ids = result.panel
    out += _panel_checks(audit, folder, ticket_ids)
    if audit.get("alternates"):
        out += _alternates_check(audit, folder, pool, inst.quotas, source)
    return out


def _history_check(draws: list[dict], draw: dict, m: int) -> Check:
    """Each recorded draw follows from its seed, and the last one is the drawn ticket."""
    from pluralign.panel.lottery import ticket_from_seed

    wrong = [
        d
        for d in draws
        if d["ticket"]
        != (
            ticket_from_seed(d["seed_text"], m) if d.get("seed_text") else seed_ticket(d["seed"], m)
        )
    ]
    public = sum(d["by"] == "panel draw" for d in draws)
    listed = ", ".join(
        f"ticket {d['ticket']} by {d['by']}" + (f" at {d['at']}" if d.get("at") else "")
        for d in draws
    )
    ok = not wrong and draws[-1]["ticket"] == draw["ticket"]
    detail = (
        f"1 draw recorded ({listed})"
        if len(draws) == 1
        else f"{len(draws)} draws recorded ({listed}); the last one counts"
    )
    if public > 1:
        detail += f"; the lottery was drawn in public {public} times"
    if wrong:
        detail = f"ticket {wrong[0]['ticket']} ({wrong[0]['by']}) does not follow from its seed"
    elif not ok:
        detail = f"the last recorded draw is ticket {draws[-1]['ticket']}, not {draw['ticket']}"
    return Check("draw history", ok, detail)


def _versions_note(audit: dict) -> str:
    now = environment()
    then = audit.get("solver", {})
    diff = [f"{k} {then.get(k)} → {v}" for k, v in now.items() if then.get(k) != v]
    return f" (versions differ: {', '.join(diff)})" if diff else ""


def _panel_checks(audit, folder, expected_ids) -> list[Check]:
    out = []
    check, path = _file_check(folder, audit.get("panel"), "panel file")
    out.append(check)
    recorded = tuple(audit["draw"]["panel"])
    ok = expected_ids is not None and sorted(expected_ids) == sorted(recorded)
    out.append(
        Check(
            "drawn panel",
            ok,
            f"{len(recorded)} people as recorded"
            if ok
            else "the recomputed panel differs from the recorded one",
        )
    )
    if path is not None:
        ids = sorted(pd.read_csv(path, dtype={"id": str})["id"].astype(str).str.strip())
        out.append(
            Check(
                "panel.csv holds the drawn panel",
                ids == sorted(recorded),
                "yes" if ids == sorted(recorded) else "panel.csv lists other people",
            )
        )
    return out


def _alternates_check(audit, folder, pool, quotas, source) -> list[Check]:
    from pluralign.panel.replace import alternates

    rec = audit["alternates"]
    check, _path = _file_check(folder, rec, "alternates")
    again = alternates(
        pool,
        quotas,
        audit["draw"]["panel"],
        rec["count"],
        seed=audit["seed"]["integer"],
        households=audit["households"],
        pool_source=source,
    )
    same = [a.id for a in again] == rec["ids"]
    return [
        check,
        Check(
            "alternates recomputed",
            same,
            f"{len(again)} alternates in the recorded order"
            if same
            else "the recomputed list differs",
        ),
    ]


def _verify_replace(audit, folder, pool, quotas, source) -> list[Check]:
    from pluralign.panel.replace import replace_dropouts

    rec = audit["replace"]
    r = replace_dropouts(
        pool,
        quotas,
        rec["panel"],
        rec["dropouts"],
        method=audit["method"],
        seed=audit["seed"]["integer"],
        households=audit["households"],
        exclude=rec["exclude"],
        relax=audit["quotas"]["relax"],
        pool_source=source,
        **_settings(audit),
    )
    out = []
    check, path = _file_check(folder, audit["probabilities"], "replacement probabilities")
    out.append(check)
    if path is not None:
        probs = pd.read_csv(path, dtype={"id": str})
        mine = dict(zip(r.candidates, r.probabilities, strict=True))
        diff = max(
            (
                abs(float(p) - mine.get(str(i), np.inf))
                for i, p in zip(probs["id"], probs["probability"], strict=True)
            ),
            default=0.0,
        )
        out.append(
            Check(
                "replacement probabilities recomputed",
                diff <= TOLERANCE,
                f"largest difference {diff:.1e}",
            )
        )
    same = sorted(r.replacements) == sorted(rec["replacements"])
    out.append(
        Check(
            "replacements recomputed",
            same,
            f"{', '.join(rec['replacements'])}"
            if same
            else f"recomputed {', '.join(r.replacements)}",
        )
    )
    out += _panel_checks(audit, folder, r.panel)
    return out
