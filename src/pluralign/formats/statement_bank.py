"""The statement bank: hand-written statements about AI assistant behaviour with per-group stances.

Each statement has a stable slug, a topic, its text and a *stance profile*: for each latent
opinion group the probabilities of agree, disagree and pass. Whether a statement is consensus or
divisive is derived from its profile by :func:`classify` (so the truth follows one written rule).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from pluralign.errors import InputError, NotFoundError, at

BANK_PATH = Path(__file__).with_name("statements.yaml")
"""The packaged bank. Its bytes are kept as they are: every simulation records their sha256
(``truth.json``'s ``bank_sha256``) and :func:`pluralign.data.simprefs.unseen_statements` refuses a
simulation whose bank changed, so even a comment edit would do that to every earlier run (its
header still names this module by its old path, ``pluralign.simulate.bank``)."""

CONSENSUS = "consensus"
CONSENSUS_AGAINST = "consensus-against"
DIVISIVE = "divisive"
MIXED = "mixed"
JUNK = "junk"

CONSENSUS_RULE = (
    "consensus: in every latent group P(agree) >= 0.65 and P(disagree) <= 0.15; "
    "consensus-against: in every group P(disagree) >= 0.60 and P(agree) <= 0.20"
)
DIVISIVE_RULE = (
    "divisive: some group has P(agree) - P(disagree) >= 0.40 and another has "
    "P(agree) - P(disagree) <= -0.40"
)


@dataclass(frozen=True)
class LatentGroup:
    id: str
    name: str
    description: str


@dataclass(frozen=True)
class BankStatement:
    """One bank statement. ``profile`` has shape (groups, 3): P(agree), P(disagree), P(pass)."""

    slug: str
    topic: str
    text: str
    profile: np.ndarray
    kind: str = "opinion"

    @property
    def category(self) -> str:
        return JUNK if self.kind == JUNK else classify(self.profile)


@dataclass(frozen=True)
class StatementBank:
    groups: tuple[LatentGroup, ...]
    topics: dict[str, str]
    statements: tuple[BankStatement, ...]
    sha256: str

    @cached_property
    def _index(self) -> dict[str, BankStatement]:
        return {s.slug: s for s in self.statements}

    def by_slug(self, slug: str) -> BankStatement:
        """The bank statement with this slug (``NotFoundError`` naming close matches if none)."""
        try:
            return self._index[slug]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(slug, list(self._index), n=3)
            raise NotFoundError(
                f"no statement '{slug}' in the statement bank",
                hint=f"did you mean {', '.join(close)}?" if close else "see statements.yaml",
            ) from None

    @property
    def opinions(self) -> tuple[BankStatement, ...]:
        return tuple(s for s in self.statements if s.kind != JUNK)

    @property
    def junk(self) -> tuple[BankStatement, ...]:
        return tuple(s for s in self.statements if s.kind == JUNK)


def classify(profile: np.ndarray) -> str:
    """Consensus / consensus-against / divisive / mixed, by :data:`CONSENSUS_RULE` and
    :data:`DIVISIVE_RULE` applied to a (groups, 3) stance profile."""
    agree, disagree = profile[:, 0], profile[:, 1]
    if agree.min() >= 0.65 and disagree.max() <= 0.15:
        return CONSENSUS
    if disagree.min() >= 0.60 and agree.max() <= 0.20:
        return CONSENSUS_AGAINST
    net = agree - disagree
    if net.max() >= 0.40 and net.min() <= -0.40:
        return DIVISIVE
    return MIXED


def _parse_stance(path: Path, slug: str, raw, n_groups: int) -> np.ndarray:
    where = at(path, None, f"statements[{slug}].stance")
    if not isinstance(raw, list) or len(raw) != n_groups:
        raise InputError(f"stance needs {n_groups} 'agree/disagree' entries", where=where)
    rows = []
    for item in raw:
        try:
            a, d = (int(x) for x in str(item).split("/"))
        except ValueError:
            raise InputError(
                f"stance entry {item!r} is not 'A/D' percentages", where=where
            ) from None
        if a < 0 or d < 0 or a + d > 100:
            raise InputError(
                f"stance entry {item!r}: percentages must be >= 0 and sum to <= 100", where=where
            )
        rows.append((a / 100, d / 100, (100 - a - d) / 100))
    return np.array(rows)


def load_bank(path: str | Path | None = None) -> StatementBank:
    """Load and validate a statement bank (default: the built-in ``statements.yaml``)."""
    return _load(str(Path(path) if path else BANK_PATH))


@lru_cache(maxsize=4)
def _load(path_text: str) -> StatementBank:
    path = Path(path_text)
    from pluralign.io import decode_text, parse_yaml

    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read the statement bank: {exc.strerror}", where=str(path)
        ) from None
    data = parse_yaml(decode_text(raw_bytes, str(path)), str(path))
    groups = tuple(
        LatentGroup(g["id"], g["name"], g.get("description", "")) for g in data["groups"]
    )
    topics = dict(data["topics"])
    seen: set[str] = set()
    statements = []
    for item in data["statements"]:
        slug = str(item["id"])
        if slug in seen:
            raise InputError(f"statement id '{slug}' appears twice", where=str(path))
        seen.add(slug)
        if item["topic"] not in topics:
            raise InputError(
                f"statement '{slug}': unknown topic '{item['topic']}'",
                where=str(path),
                hint=f"topics: {', '.join(topics)}",
            )
        statements.append(
            BankStatement(
                slug=slug,
                topic=item["topic"],
                text=str(item["text"]).strip(),
                profile=_parse_stance(path, slug, item["stance"], len(groups)),
                kind=item.get("kind", "opinion"),
            )
        )
    return StatementBank(groups, topics, tuple(statements), hashlib.sha256(raw_bytes).hexdigest())
