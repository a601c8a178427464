"""Configuration and result of a simulated assembly.

:class:`SimulatedAssembly` keeps everything a later stage may need: the pool with demographics,
each person's true latent group and group *membership* (a mixture over groups that sets their
vote probabilities), the statements with slugs and topics, the vote events, the Polis export and
the truth record. :meth:`SimulatedAssembly.vote_probabilities` and
:meth:`SimulatedAssembly.simulate_votes` let a later stage ask how any subset of the pool (e.g. a
selected panel) would vote on any bank statement, or build per-person preferences on top.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pluralign.contract import setting
from pluralign.errors import InputError
from pluralign.formats.statement_bank import StatementBank
from pluralign.simulate.population import Population
from pluralign.simulate.settings import SimulateSettings

if TYPE_CHECKING:
    from pluralign.formats.polis import PolisExport

VOTE_CHOICES = np.array([1, -1, 0])  # the order of the last axis of vote probabilities


@dataclass(frozen=True)
class SimulationSettings(SimulateSettings):
    """Settings of :func:`~pluralign.simulate.simulate_assembly` (all have realistic defaults):
    the stage's :class:`~pluralign.simulate.settings.SimulateSettings` (the assembly's size,
    ``pipeline.yaml``'s ``inputs.simulate`` and ``pluralign simulate``'s options: their defaults,
    help and bounds declared once) and what only the simulator takes. Every field is checked on
    construction, by the contract's one path (an :class:`~pluralign.errors.InputError` naming
    ``field '<name>' of the simulation settings``)."""

    section = ""
    label = "simulation settings"

    seed: int = setting(0, "Random seed: the same settings and seed give the same assembly.")
    seed_share: float = setting(
        0.6, "Share of the statements written by the moderator (participant 0) before it "
        "opens.", ge=0, le=1)
    engagement_concentration: float = setting(
        2.0, "Beta concentration of per-person engagement (lower: light and heavy voters "
        "differ more).", gt=0)
    change_rate: float = setting(
        0.03, "Chance that a vote is later changed (adds a second event to the history).",
        ge=0, le=1)
    return_rate: float = setting(
        0.3, "Chance that a participant comes back later to vote on statements added since.",
        ge=0, le=1)
    junk_share: float = setting(
        0.08, "Share of participant-authored statements that are off-topic (moderators reject "
        "them).", ge=0, le=1)
    conviction: tuple[float, float] = setting(
        (6.0, 2.0), "Beta(a, b) weight of a person's own latent group in their membership "
        "(rest: a random mix); both above 0.")
    days: float = setting(14.0, "Days the conversation stays open.", gt=0)
    start: str = setting(
        "2025-03-03T09:00:00+00:00", "When the conversation opens (ISO date-time; UTC when it "
        "names no time zone).")
    topic: str = setting("How should AI assistants behave?", "The conversation's topic.")
    description: str = setting(
        "A simulated alignment assembly: what should an AI assistant do, refuse, "
        "and value? Vote on each statement; add your own.",
        "The conversation's description (what participants read first).")
    bank_path: str | None = setting(
        None, "A custom statement bank (YAML like the built-in one); None: the built-in bank.")

    def __post_init__(self) -> None:
        super().__post_init__()

        def bad(name: str, rule: str) -> InputError:
            return InputError(f"{rule}, got {getattr(self, name)!r}",
                              where=f"field '{name}' of the {self.label}")

        a_b = self.conviction
        if (not isinstance(a_b, tuple | list) or len(a_b) != 2
                or not all(isinstance(x, int | float) and math.isfinite(x) and x > 0
                           for x in a_b)):
            raise bad("conviction", "must be two numbers above 0 (Beta a, b)")
        try:
            dt.datetime.fromisoformat(self.start)
        except (TypeError, ValueError):
            raise bad("start", "must be an ISO date-time like 2025-03-03T09:00:00+00:00") from None

    @property
    def start_ms(self) -> int:
        start = dt.datetime.fromisoformat(self.start)
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
        return int(start.timestamp() * 1000)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["conviction"] = list(self.conviction)
        return data


@dataclass(frozen=True)
class SimulatedAssembly:
    """A simulated assembly. Frames (row order = participant / comment number):

    * ``pool``: ``id`` + one column per demographic feature (what ``pool.csv`` holds);
    * ``people``: ``id, participant, group, conviction, pass_factor, arrival, engagement,
      offered`` (truth per person: ``group`` is the latent group id, ``arrival`` epoch ms,
      ``engagement`` the share of offered statements they vote on, ``offered`` how many accepted
      statements existed, and were not their own, when they came);
    * ``statements``: ``comment-id, slug, topic, category, text, author-id, moderated, is_seed,
      timestamp``;
    * ``votes``: every vote event ``timestamp, comment-id, voter-id, vote`` (history included).

    ``membership`` is (people, groups): each row mixes the groups' stance profiles into that
    person's vote probabilities. ``polis`` is the Polis export and ``truth`` the truth.json record.
    """

    config: SimulationSettings
    population: Population
    bank: StatementBank
    pool: pd.DataFrame
    people: pd.DataFrame
    membership: np.ndarray
    statements: pd.DataFrame
    votes: pd.DataFrame
    polis: PolisExport = field(repr=False)
    truth: dict[str, Any] = field(repr=False)

    @property
    def group_ids(self) -> list[str]:
        return [g.id for g in self.bank.groups]

    def _rows(self, people: Sequence[str] | None) -> np.ndarray:
        if people is None:
            return np.arange(len(self.people))
        index = {pid: i for i, pid in enumerate(self.people["id"])}
        missing = [p for p in people if p not in index]
        if missing:
            raise InputError(
                f"unknown pool ids: {', '.join(map(str, missing[:5]))}", where="simulated pool"
            )
        return np.array([index[p] for p in people], dtype=int)

    def vote_probabilities(
        self, people: Sequence[str] | None = None, slugs: Sequence[str] | None = None
    ) -> np.ndarray:
        """P(agree), P(disagree), P(pass) of each person on each bank statement.

        Shape (len(people), len(slugs), 3), last axis in the order agree, disagree, pass.
        ``people`` are pool ids (default: everyone); ``slugs`` bank statement slugs (default: the
        statements of this conversation). A person's probabilities are their membership-weighted
        mix of the groups' profiles, with the pass probability scaled by their ``pass_factor``.
        """
        rows = self._rows(people)
        if slugs is None:
            slugs = list(self.statements["slug"])
        profiles = np.stack([self.bank.by_slug(s).profile for s in slugs])  # (S, G, 3)
        mixed = np.einsum("pg,sgk->psk", self.membership[rows], profiles)
        factor = self.people["pass_factor"].to_numpy()[rows][:, None]
        mixed[:, :, 2] *= factor
        return mixed / mixed.sum(axis=2, keepdims=True)

    def support(
        self, people: Sequence[str] | None = None, slugs: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Expected vote P(agree) - P(disagree) in [-1, 1], people (pool ids) × statements."""
        if slugs is None:
            slugs = list(self.statements["slug"])
        probs = self.vote_probabilities(people, slugs)
        ids = self.people["id"].to_numpy()[self._rows(people)]
        return pd.DataFrame(probs[:, :, 0] - probs[:, :, 1], index=ids, columns=list(slugs))

    def simulate_votes(
        self,
        people: Sequence[str] | None = None,
        slugs: Sequence[str] | None = None,
        *,
        seed: int = 0,
        rate: float = 1.0,
    ) -> pd.DataFrame:
        """Fresh votes of ``people`` on ``slugs`` (e.g. a selected panel on every statement).

        Each person votes on each statement with probability ``rate``. Returns columns ``id``
        (pool id), ``slug``, ``vote`` (1, -1, 0). Deterministic in ``seed``.
        """
        if not 0.0 <= rate <= 1.0:
            raise InputError(f"rate = {rate}: must be between 0 and 1", where="simulate_votes")
        rng = np.random.default_rng(seed)
        if slugs is None:
            slugs = list(self.statements["slug"])
        probs = self.vote_probabilities(people, slugs)
        ids = self.people["id"].to_numpy()[self._rows(people)]
        cumulative = probs.cumsum(axis=2)
        draws = rng.random(probs.shape[:2])
        choice = (draws[:, :, None] > cumulative).sum(axis=2).clip(0, 2)
        seen = rng.random(probs.shape[:2]) < rate
        p_idx, s_idx = np.nonzero(seen)
        return pd.DataFrame(
            {
                "id": ids[p_idx],
                "slug": np.asarray(slugs, dtype=object)[s_idx],
                "vote": VOTE_CHOICES[choice[p_idx, s_idx]],
            }
        )

    def group_of(self, pool_id: str) -> str:
        """The true latent group of a pool member."""
        return str(self.people["group"].to_numpy()[self._rows([pool_id])[0]])

    def conversation_votes(
        self, people: Sequence[str] | None = None, *, latest: bool = True
    ) -> pd.DataFrame:
        """The conversation's votes cast by ``people`` (pool ids; default everyone).

        Columns ``id, participant, comment-id, slug, vote, timestamp``; ``latest=True`` keeps
        the vote that counts per pair, ``False`` every event. The moderator casts no votes.
        """
        votes = self.polis.latest_votes() if latest else self.votes
        rows = self._rows(people)
        numbers = self.people["participant"].to_numpy()[rows]
        chosen = votes[votes["voter-id"].isin(numbers)]
        id_of = dict(zip(self.people["participant"], self.people["id"], strict=True))
        slug_of = dict(zip(self.statements["comment-id"], self.statements["slug"], strict=True))
        return pd.DataFrame(
            {
                "id": chosen["voter-id"].map(id_of).to_numpy(),
                "participant": chosen["voter-id"].to_numpy(),
                "comment-id": chosen["comment-id"].to_numpy(),
                "slug": chosen["comment-id"].map(slug_of).to_numpy(),
                "vote": chosen["vote"].to_numpy(),
                "timestamp": chosen["timestamp"].to_numpy(),
            }
        )

    def polis_subset(self, people: Sequence[str]):
        """The Polis export restricted to the votes of ``people`` (e.g. a selected panel).

        All statements and authors are kept (so comment ids stay valid); participants-votes
        lists the moderator, ``people`` and the statements' authors.
        """
        from pluralign.formats.polis import make_polis_export

        rows = self._rows(people)
        numbers = set(self.people["participant"].to_numpy()[rows].tolist())
        votes = self.votes[self.votes["voter-id"].isin(numbers)]
        comments = self.polis.comments[
            ["comment-id", "author-id", "timestamp", "moderated", "comment-body"]
        ]
        keep = sorted(numbers | {0})
        roster = pd.DataFrame(
            {"participant": keep, "group-id": pd.array([None] * len(keep), dtype="Int64")}
        )
        summary = {k: self.polis.summary[k] for k in ("topic", "url", "conversation-description")}
        return make_polis_export(comments, votes, roster, summary=summary, clock=self.polis.clock)
