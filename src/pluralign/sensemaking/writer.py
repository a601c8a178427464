"""The LLM steps of sensemaking, batched through one provider and checked on the way back.

:class:`Writer` turns lists of tasks into one :meth:`~pluralign.llm.provider.Provider.complete_many`
call each, so the local provider decodes them together in batches and the request cache answers
every request it has seen before (a re-run costs nothing). Replies are parsed strictly: a
principle must be one sentence that begins with its style's prefix, a yes/no answer must begin
with yes or no, a topic name must be two to six words; anything else counts as no answer
(``None``) and the caller falls back to its offline rule. A request that fails after its retries
also gives ``None``, and is counted in :attr:`Writer.failed`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from pluralign.llm.types import ChatRequest
from pluralign.sensemaking import prompts as P

_FIRST_LINE = re.compile(r"^\s*(?:principle|answer|name|topic|sentence)\s*:\s*", re.IGNORECASE)


def _first_line(text: str) -> str:
    for line in text.strip().splitlines():
        line = _FIRST_LINE.sub("", line.strip()).strip().strip('"“”*`').strip()
        if line:
            return line
    return ""


def parse_sentence(text: str, prefix: str, max_words: int = 80) -> str | None:
    """The one sentence of a reply that begins with ``prefix`` (capitalised, with a full stop),
    or None."""
    line = _first_line(text)
    if not line.lower().startswith(prefix.lower()):
        return None
    line = prefix + line[len(prefix) :]
    cut = re.search(r"(?<=[.!?])\s", line)  # keep the first sentence only
    if cut:
        line = line[: cut.start()]
    line = line.rstrip(" ,;:")
    if not line.endswith((".", "!", "?")):
        line += "."
    words = line.split()
    if len(words) <= len(prefix.split()) + 1 or len(words) > max_words:
        return None
    return line


def parse_yes_no(text: str) -> bool | None:
    word = re.match(r"\W*(\w+)", text.strip().lower())
    if word is None:
        return None
    return {"yes": True, "no": False}.get(word.group(1))


def parse_name(text: str) -> str | None:
    line = _first_line(text).rstrip(".!?:;,")
    words = line.split()
    if not 1 <= len(words) <= 6 or len(line) > 60 or not re.search(r"[^\W\d_]", line):
        return None
    return line[:1].upper() + line[1:]


class Writer:
    """LLM steps on ``provider`` (see the module docstring). ``progress(done, total, what)`` is
    called as answers arrive."""

    def __init__(
        self,
        provider,
        *,
        seed: int = 0,
        max_tokens: int = 80,
        progress: Callable[[int, int, str], None] | None = None,
    ):
        self.provider = provider
        self.seed = seed
        self.max_tokens = max_tokens
        self.progress = progress
        self.failed = 0

    @property
    def model(self) -> str:
        return self.provider.model_name()

    def ask(self, requests: Sequence[ChatRequest], what: str) -> list[str | None]:
        """Reply texts of ``requests`` (None for a request that failed)."""
        from pluralign.errors import ProviderError

        total, done = len(requests), [0]

        def tick(i, result):
            done[0] += 1
            if self.progress is not None:
                self.progress(done[0], total, what)

        out = []
        for r in self.provider.complete_many(list(requests), on_done=tick):
            if isinstance(r, ProviderError):
                self.failed += 1
                out.append(None)
            else:
                out.append(r.text)
        return out

    def _request(
        self,
        system: str,
        example: tuple[str, str] | None,
        user: str,
        max_tokens: int,
        temperature: float = 0.0,
        seed: int | None = None,
    ):
        messages = [("system", system)]
        if example is not None:
            messages += [("user", example[0]), ("assistant", example[1])]
        messages.append(("user", user))
        return ChatRequest.of(
            messages,
            max_tokens=max_tokens,
            temperature=temperature,
            seed=self.seed if seed is None else seed,
        )

    def reword(
        self, groups: Sequence[Sequence[str]], style: str, attempt: int = 0
    ) -> list[str | None]:
        """One principle per group of statements (cleaned wording, best-supported first), in
        ``style`` (``should`` or ``choose``): greedy for ``attempt`` 0, sampled at temperature
        0.7 with seed ``seed + attempt`` after. The model writes the "should" form; "choose" is
        made from it by :func:`~pluralign.sensemaking.style.to_choose`."""
        from pluralign.sensemaking.style import SHOULD, to_choose

        requests = []
        for texts in groups:
            if len(texts) == 1:
                user = P.REWORD_USER.format(statements=f"Statement: {texts[0]}")
            else:
                user = P.MERGED_USER.format(
                    statements=P.MERGED_INTRO + "\n" + P.bullet_list(list(texts))
                )
            requests.append(
                self._request(
                    P.REWORD_SYSTEM,
                    None,
                    user,
                    self.max_tokens,
                    0.0 if attempt == 0 else 0.7,
                    self.seed + attempt,
                )
            )
        replies = self.ask(requests, f"writing principles (attempt {attempt + 1})")
        out = []
        for r in replies:
            should = None if r is None else parse_sentence(r, SHOULD)
            out.append(should if style == "should" or should is None else to_choose(should))
        return out

    def same_point(self, pairs: Sequence[tuple[str, str]]) -> list[bool | None]:
        requests = [
            self._request(P.SAME_SYSTEM, None, P.SAME_USER.format(a=a, b=b), 3) for a, b in pairs
        ]
        return [
            None if r is None else parse_yes_no(r)
            for r in self.ask(requests, "comparing statements")
        ]

    def entailed(self, items: Sequence[tuple[Sequence[str], str]]) -> list[bool | None]:
        """Whether each principle says only what its statements say (the model is asked the
        negated question; "no" means entailed)."""
        requests = [
            self._request(
                P.ENTAIL_SYSTEM,
                None,
                P.ENTAIL_USER.format(statements=P.bullet_list(list(src)), principle=text),
                3,
            )
            for src, text in items
        ]
        out = []
        for r in self.ask(requests, "checking principles"):
            answer = None if r is None else parse_yes_no(r)
            out.append(None if answer is None else not answer)
        return out

    def topic_names(self, statement_lists: Sequence[Sequence[str]]) -> list[str | None]:
        requests = [
            self._request(
                P.TOPIC_SYSTEM,
                P.TOPIC_EXAMPLE,
                P.TOPIC_USER.format(statements=P.bullet_list(list(texts))),
                16,
            )
            for texts in statement_lists
        ]
        return [None if r is None else parse_name(r) for r in self.ask(requests, "naming topics")]

    def common_ground(self, statement_lists: Sequence[Sequence[str]]) -> list[str | None]:
        requests = [
            self._request(
                P.SUMMARY_SYSTEM,
                P.SUMMARY_EXAMPLE,
                P.SUMMARY_USER.format(statements=P.bullet_list(list(texts))),
                self.max_tokens + 20,
            )
            for texts in statement_lists
        ]
        return [
            None if r is None else parse_sentence(r, "Participants agree that", 90)
            for r in self.ask(requests, "summarising common ground")
        ]
