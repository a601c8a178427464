"""File-level steps after a selection (what ``panel draw`` and ``panel replace`` call): the public
draw from a published lottery, and replacements for dropouts; each updates or writes an audit."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from pluralign.io import atomic_write_text
from pluralign.io import sha256_file as sha256
from pluralign.panel.run import _dump, _file


def run_draw(*, lottery_path, seed_text: str, out=None, pool_path=None) -> dict:
    """Draw the ticket ``1 + sha256(seed_text) mod M`` from ``lottery.csv``.

    Writes ``OUT/draw.json`` (default: the lottery's folder). If that folder holds the selection's
    ``audit.json`` for this very lottery, the draw is recorded there and ``panel.csv`` is rewritten
    with the drawn people (pool columns, their lottery probability and soft weight), so that
    ``panel verify`` checks the public draw; every draw stays listed in ``audit.json``
    (``draws``, see :func:`pluralign.panel.audit.draw_history`). Returns ``{"ticket", "panel",
    "files", "earlier"}`` (``earlier``: the public draws of this lottery before this one)."""
    from pluralign.errors import InputError
    from pluralign.panel.audit import draw_history, read_audit
    from pluralign.panel.lottery import read_lottery, ticket_from_seed

    lottery_path = Path(lottery_path)
    lottery = read_lottery(lottery_path)
    ticket = ticket_from_seed(seed_text, lottery.size)
    ids = lottery.ticket(ticket)
    out = Path(out) if out is not None else lottery_path.parent
    digest = sha256(lottery_path)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    draw = {
        "lottery": {"path": str(lottery_path), "sha256": digest, "tickets": lottery.size},
        "seed_text": seed_text,
        "rule": "ticket = 1 + int(sha256(seed_text as UTF-8), 16) mod tickets",
        "ticket": ticket,
        "panel": list(ids),
        "at": now,
    }
    files = {"draw.json": _dump(draw)}
    audit = None
    if (out / "audit.json").is_file():
        audit = read_audit(out)
        rec = audit.get("lottery") or {}
        if rec.get("sha256") != digest:
            raise InputError(
                "audit.json here belongs to another lottery (sha256 differs)",
                where=str(out / "audit.json"),
                hint="draw into the folder the lottery was written to, or another --out",
            )
    earlier: list[dict] = []
    if audit is not None:
        files["panel.csv"] = _drawn_panel(audit, out, ids, pool_path)
        if audit.get("alternates"):  # the reserve list belongs to the panel: draw it again
            files["alternates.csv"] = _alternates_again(audit, out, ids, pool_path)
        history = draw_history(audit)
        earlier = [d for d in history if d["by"] == "panel draw"]
        history.append({"by": "panel draw", "seed_text": seed_text, "ticket": ticket, "at": now})
        audit["draws"] = history
        audit["seed"]["text"] = seed_text
        audit["draw"] = {"ticket": ticket, "panel": list(ids)}
        audit["panel"] = _file("panel.csv", files["panel.csv"])
        files["audit.json"] = _dump(audit)
    for name, text in files.items():
        atomic_write_text(out / name, text)
    return {
        "ticket": ticket,
        "tickets": lottery.size,
        "panel": ids,
        "files": list(files),
        "out": str(out),
        "earlier": earlier,
    }


def _alternates_again(audit: dict, folder: Path, ids, pool_path) -> str:
    from pluralign.panel.audit import _pool, quotas_from_rows
    from pluralign.panel.run import alternates_file

    _check, pool, source = _pool(audit, folder, pool_path)
    quotas = quotas_from_rows(audit["quotas"]["used"], audit["quotas"]["path"])
    rec = audit["alternates"]
    text, ranked = alternates_file(
        pool, quotas, ids, rec["count"], audit["seed"]["integer"], audit["households"], source
    )
    audit["alternates"] = {
        **_file("alternates.csv", text),
        "count": rec["count"],
        "ids": [a.id for a in ranked],
    }
    return text


def _drawn_panel(audit: dict, folder: Path, ids, pool_path) -> str:
    """``panel.csv`` for the drawn ticket: pool columns, lottery probability, soft weight."""
    from pluralign.errors import InputError
    from pluralign.panel.audit import _pool
    from pluralign.panel.inputs import read_population
    from pluralign.panel.weights import pool_shares, soft_weights

    check, pool, _source = _pool(audit, folder, pool_path)
    if pool is None:
        raise InputError(check.detail, where="--pool")
    probs = pd.read_csv(folder / "probabilities.csv", dtype={"id": str})
    used = dict(zip(probs["id"].astype(str), probs["lottery_probability"], strict=True))
    pool_ids = pool["id"].astype(str).str.strip()
    chosen = pool_ids.isin(set(ids)).to_numpy()
    features = [row[0] for row in audit["quotas"]["rows"]]
    pop = audit.get("population")
    target = (
        read_population(pop["path"])
        if pop and Path(pop["path"]).is_file()
        else pool_shares(pool, list(dict.fromkeys(features)))
    )
    p = pool_ids[chosen].map(used).to_numpy(dtype=float)
    panel = pool[chosen].copy()
    panel["probability"] = p
    panel["weight"] = soft_weights(panel, target, p).weights
    return panel.to_csv(index=False)


def run_replace(
    *,
    pool_path,
    quotas_path,
    panel_path,
    dropouts,
    out,
    method: str = "leximin",
    seed: int = 0,
    households: str | None = None,
    exclude=(),
    relax: bool = False,
    population_path=None,
    gap: float = 1e-6,
    samples: int = 1000,
    time_limit: float | None = None,
) -> dict:
    """Replace ``dropouts`` of the panel in ``panel_path`` and write ``OUT/panel.csv`` (the new
    panel: pool columns, ``role`` kept/replacement, soft ``weight``), ``OUT/replacements.csv``
    (every candidate's chance of being called, and who was), ``report.json`` and ``audit.json``."""
    from pluralign.errors import InputError, at
    from pluralign.panel.audit import FORMAT, environment, quota_rows
    from pluralign.panel.inputs import _read_csv, read_pool, read_population, read_quotas
    from pluralign.panel.replace import replace_dropouts
    from pluralign.panel.weights import pool_shares, soft_weights

    if (Path(out) / "panel.csv").resolve() == Path(panel_path).resolve():
        raise InputError(
            "--out would overwrite the panel being replaced",
            where=str(panel_path),
            hint="write the new panel to another folder",
        )
    pool = read_pool(pool_path)
    quotas = read_quotas(quotas_path)
    population = read_population(population_path) if population_path else None
    frame = _read_csv(panel_path)
    if "id" not in frame.columns:
        raise InputError(
            f"no 'id' column; found {', '.join(map(str, frame.columns))}",
            where=at(panel_path, 1),
            hint="give the panel.csv that panel select wrote",
        )
    panel_ids = list(frame["id"].astype(str).str.strip())
    r = replace_dropouts(
        pool,
        quotas,
        panel_ids,
        dropouts,
        method=method,
        seed=seed,
        households=households,
        exclude=exclude,
        relax=relax,
        gap=gap,
        samples=samples,
        time_limit=time_limit,
        pool_source=str(pool_path),
        panel_source=str(panel_path),
    )
    pool_ids = pool["id"].astype(str).str.strip()
    new = pool[pool_ids.isin(set(r.panel)).to_numpy()].copy()
    new.insert(
        1,
        "role",
        [
            "replacement" if i in set(r.replacements) else "kept"
            for i in new["id"].astype(str).str.strip()
        ],
    )
    features = list(dict.fromkeys(q.feature for q in quotas.items))
    # The final panel's inclusion probabilities are not those of one lottery (kept members came
    # from the first, replacements from the second): equal base weights, raked to the target.
    new["weight"] = soft_weights(new, population or pool_shares(pool, features)).weights
    cands = pd.DataFrame({"id": list(r.candidates), "probability": r.probabilities})
    cands["called"] = cands["id"].isin(set(r.replacements))
    files = {
        "panel.csv": new.to_csv(index=False),
        "replacements.csv": cands.to_csv(index=False, float_format="%.10g"),
    }
    report = {
        "dropouts": list(r.dropouts),
        "replacements": list(r.replacements),
        "kept": len(r.kept),
        "rule": f"{method} over the feasible completions (see docs/sortition.md)",
        "relaxed": [c.as_dict() for c in r.relaxed],
        **r.stats,
    }
    audit = {
        "format": FORMAT,
        "kind": "replace",
        "pool": {"path": str(pool_path), "sha256": sha256(pool_path), "people": len(pool)},
        "households": households,
        "size": len(panel_ids),
        "quotas": {
            "path": str(quotas_path),
            "sha256": sha256(quotas_path),
            "rows": quota_rows(quotas),
            "relax": relax,
            "relaxed": [c.as_dict() for c in r.relaxed],
        },
        "method": method,
        "settings": {"gap": gap, "samples": samples, "time_limit": time_limit},
        "solver": environment(),
        "replace": {
            "panel_file": {"path": str(panel_path), "sha256": sha256(panel_path)},
            "panel": panel_ids,
            "dropouts": list(r.dropouts),
            "exclude": [str(e) for e in exclude],
            "replacements": list(r.replacements),
        },
        "probabilities": _file("replacements.csv", files["replacements.csv"]),
        "lottery": None,
        "seed": {"integer": seed, "text": None},
        "draw": {"ticket": None, "panel": list(r.panel)},
        "panel": _file("panel.csv", files["panel.csv"]),
    }
    files["report.json"] = _dump(report)
    files["audit.json"] = _dump(audit)
    out = Path(out)
    for name, text in files.items():
        atomic_write_text(out / name, text)
    return {"report": report, "files": list(files), "replacement": r}
