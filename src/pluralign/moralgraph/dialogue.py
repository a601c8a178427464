"""Articulating a value: a guided chat that ends in a values card, or a plain form.

Democratic Fine-Tuning asks participants, for a case, how the assistant should respond and then
helps them say *what they would pay attention to* in choosing well — a value's **attention
policies** — ending in a card they edit and confirm (Klingefjord, Lowe & Edelman 2024). The
prompts here are pluralign's own. The language model is any ``chat(messages) -> text`` function, so
this module needs no provider; :func:`provider_chat` adapts a ``pluralign.llm`` provider. Without a
model, :func:`card_from_form` validates a card written directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pluralign.errors import N_, InputError
from pluralign.moralgraph.types import ValuesCard

Chat = Callable[[list[dict[str, str]]], str]
MAX_TITLE = 80
MAX_POLICIES = 8

SYSTEM = """You help a participant in a citizens' assembly articulate one of their values.
They were shown this case: "{prompt}"
Context: {context}

Ask short, warm questions, one at a time, about how they would want an assistant to respond and,
above all, what they would pay attention to in choosing a good response. Look for what is
meaningful to attend to, not rules, goals or outcomes. Do not lecture, do not offer your own
values, never judge theirs. After a few exchanges, when you can, summarise in one sentence what
they attend to and ask whether that captures it."""

CARD_REQUEST = """From the conversation so far, write the participant's value as a values card.
Reply with only a JSON object: {"title": "...", "description": "...", "policies": ["..."]}
- title: 2-5 words naming the value;
- description: one sentence in plain words, starting with a verb ("Helping ...", "Staying ...");
- policies: 2-6 things they attend to, each starting with an upper-case noun phrase
  (e.g. "FEELINGS the user names or hints at").
Use only what the participant said."""


@dataclass
class Dialogue:
    """The state of one articulation chat for a case."""

    prompt: str
    context: str = ""
    messages: list[dict[str, str]] = field(default_factory=list)

    def system(self) -> dict[str, str]:
        return {"role": "system",
                "content": SYSTEM.format(prompt=self.prompt, context=self.context or "—")}

    def reply(self, participant_text: str, chat: Chat) -> str:
        """Add the participant's message, get and record the assistant's next question."""
        text = participant_text.strip()
        if not text:
            raise InputError(N_("an empty message"), where="message",
                             hint=N_("write a few words"))
        self.messages.append({"role": "user", "content": text})
        answer = chat([self.system(), *self.messages]).strip()
        self.messages.append({"role": "assistant", "content": answer})
        return answer

    def propose_card(self, chat: Chat, retries: int = 1) -> ValuesCard | None:
        """Ask the model for a card from the chat; ``None`` if it fails to give a valid one
        (the participant then writes it in the form). One retry quotes the problem."""
        request = [self.system(), *self.messages, {"role": "user", "content": CARD_REQUEST}]
        for _ in range(retries + 1):
            text = chat(request)
            try:
                data = _json_object(text)
                return card_from_form(data.get("title", ""), data.get("description", ""),
                                      data.get("policies", []))
            except (InputError, ValueError, AttributeError) as exc:
                request = [*request, {"role": "assistant", "content": text},
                           {"role": "user", "content": f"That was not valid ({exc}). "
                                                       "Reply with only the JSON object."}]
        return None


def _json_object(text: str) -> dict:
    match = re.search(r"\{.*\}", text, flags=re.S)
    if not match:
        raise ValueError("no JSON object in the reply")
    data = json.loads(match.group(0))
    if not isinstance(data, dict):
        raise ValueError("the reply is not a JSON object")
    return data


def card_from_form(title: str, description: str, policies: str | Sequence[str], *,
                   id: int | str = 0, context: str | None = None,
                   author: str | None = None) -> ValuesCard:
    """A card from form fields; ``policies`` as a list or one per line. Raises
    :class:`InputError` naming the field at fault."""
    title = (title or "").strip()
    description = (description or "").strip()
    if isinstance(policies, str):
        items = [p.strip(" -•\t") for p in policies.splitlines()]
    else:
        items = [str(p).strip() for p in policies]
    items = [p for p in items if p]
    if not title:
        raise InputError(N_("a card needs a title"), where=N_("title"))
    if len(title) > MAX_TITLE:
        raise InputError(N_("the title is longer than %(n)s characters", n=MAX_TITLE),
                         where=N_("title"),
                         hint=N_("name the value in a few words; explain it in the description"))
    if not description:
        raise InputError(N_("a card needs a description"), where=N_("description"))
    if not items:
        raise InputError(N_("a card needs at least one attention policy"), where=N_("policies"),
                         hint=N_("one thing you would pay attention to per line"))
    if len(items) > MAX_POLICIES:
        raise InputError(N_("more than %(n)s policies", n=MAX_POLICIES), where=N_("policies"),
                         hint=N_("keep the ones that matter most"))
    return ValuesCard(id=id, title=title, description=description, policies=tuple(items),
                      context=context, author=author)


def provider_chat(provider, *, max_tokens: int = 300, temperature: float = 0.3) -> Chat:
    """A :data:`Chat` over a ``pluralign.llm`` provider (``provider.complete(ChatRequest)``)."""
    from pluralign.llm.types import ChatRequest

    def chat(messages: list[dict[str, str]]) -> str:
        request = ChatRequest.of(messages, max_tokens=max_tokens, temperature=temperature)
        return provider.complete(request).text

    return chat
