"""The articulation dialogue with a scripted model, and the card form's validation."""

from __future__ import annotations

import pytest

from pluralign.errors import InputError
from pluralign.moralgraph.dialogue import Dialogue, card_from_form


class Scripted:
    """A fake model answering from a list, recording what it was asked."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.seen = []

    def __call__(self, messages):
        self.seen.append(messages)
        return self.answers.pop(0)


def test_dialogue_to_card():
    chat = Scripted(
        "What would you pay attention to?",
        'Here it is: {"title": "Emotional Presence", "description": "Staying with feelings.", '
        '"policies": ["FEELINGS the user names", "MOMENTS to listen"]}',
    )
    d = Dialogue(prompt="I can't stop panicking", context="user-in-distress")
    assert d.reply("  I'd want it to listen first ", chat) == "What would you pay attention to?"
    assert chat.seen[0][0]["role"] == "system" and "I can't stop panicking" in chat.seen[0][0][
        "content"]
    assert chat.seen[0][1] == {"role": "user", "content": "I'd want it to listen first"}
    card = d.propose_card(chat)
    assert card.title == "Emotional Presence" and len(card.policies) == 2
    assert [m["role"] for m in d.messages] == ["user", "assistant"]


def test_invalid_card_retries_once_then_gives_up():
    chat = Scripted("no json here", '{"title": "", "description": "x", "policies": ["A"]}')
    assert Dialogue(prompt="p").propose_card(chat) is None
    assert "not valid" in chat.seen[1][-1]["content"]
    chat = Scripted("oops", '{"title": "T", "description": "D", "policies": ["A"]}')
    assert Dialogue(prompt="p").propose_card(chat).title == "T"


def test_empty_message_refused():
    with pytest.raises(InputError, match="empty"):
        Dialogue(prompt="p").reply("   ", Scripted())


def test_form_validation_names_the_field():
    card = card_from_form("Agency", "Helping them choose.", "- STRENGTHS they have\n\n• PEOPLE\n")
    assert card.policies == ("STRENGTHS they have", "PEOPLE")
    for args, field in [(("", "d", "p"), "title"), (("t" * 81, "d", "p"), "title"),
                        (("t", "", "p"), "description"), (("t", "d", " \n "), "policies"),
                        (("t", "d", ["p"] * 9), "policies")]:
        with pytest.raises(InputError) as info:
            card_from_form(*args)
        assert info.value.where == field


def test_provider_chat_builds_llm_requests():
    from pluralign.llm.types import ChatRequest, Completion
    from pluralign.moralgraph.dialogue import provider_chat

    class Provider:
        def __init__(self):
            self.requests = []

        def complete(self, request):
            self.requests.append(request)
            return Completion(text="What matters to you here?", model="stub")

    provider = Provider()
    d = Dialogue(prompt="p", context="c")
    assert d.reply("hello", provider_chat(provider, max_tokens=50)) == "What matters to you here?"
    request = provider.requests[0]
    assert isinstance(request, ChatRequest) and request.max_tokens == 50
    assert [r for r, _ in request.messages] == ["system", "user"]
