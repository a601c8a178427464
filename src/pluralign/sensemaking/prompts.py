"""The prompts of the sensemaking and principle-writing steps, in one place, versioned.

``PROMPT_VERSION`` goes into the provenance of every constitution and summary written with an
LLM; change it whenever a prompt below changes. The prompts are written for small models (the
embedded SmolLM2-135M-Instruct): one short task per request, one worked example as a previous
chat turn, the answer alone on one line. Whatever the model writes is checked afterwards
(:mod:`pluralign.sensemaking.faithful`); nothing it says is trusted unchecked.
"""

from __future__ import annotations

PROMPT_VERSION = "sense-2026-12-01.2"

REWORD_SYSTEM = (
    "You turn statements from a public consultation into rules for an AI assistant. Keep the "
    "meaning exactly: add nothing, drop nothing, and keep every 'not', 'never', 'only', 'all', "
    "number and condition."
)
REWORD_USER = (
    '{statements}\n\nRewrite the statement as one rule that starts with "The AI should". '
    "Reply with the rule only."
)
"""Asked for the "should" form only, without a worked example: with an example the embedded
model often copies it, and asked for "Choose the response that …" it copies the instruction
(measured on 50 statements of the simulator's bank and 67 Polis consensus statements:
docs/sensemaking.md). The "choose" style is made from the "should" form by rule
(:func:`pluralign.sensemaking.style.to_choose`)."""
MERGED_USER = (
    "{statements}\n\nThese statements say the same thing. Rewrite them as one rule that starts "
    'with "The AI should". Reply with the rule only.'
)

MERGED_INTRO = "Statements:"

ENTAIL_SYSTEM = "You check whether a summary says only what its sources say."
ENTAIL_USER = (
    "Sources:\n{statements}\n\nSummary: {principle}\n\n"
    "Does the summary say anything the sources do not say? Answer yes or no."
)

SAME_SYSTEM = "You compare two statements from a public consultation."
SAME_USER = (
    "Statement A: {a}\nStatement B: {b}\n\n"
    "Do A and B make the same point, so that one sentence could replace both? Answer yes or no."
)

TOPIC_SYSTEM = "You name the topics of a public consultation."
TOPIC_EXAMPLE = (
    "Statements:\n- The city needs more bike lanes.\n- Cycling to school should be safe.\n"
    "- Buses should run every ten minutes.",
    "Cycling and public transport",
)
TOPIC_USER = (
    "Statements:\n{statements}\n\nName the topic of these statements in two to five words. "
    "Reply with the name only."
)

SUMMARY_SYSTEM = (
    "You write one plain sentence that reports what participants in a consultation said. "
    "Say only what the statements say."
)
SUMMARY_EXAMPLE = (
    "Statements that most of every group agreed with:\n- Parks should stay free.\n"
    "- Every neighbourhood needs a park within walking distance.",
    "Participants agree that parks should stay free and that every neighbourhood needs a park "
    "within walking distance.",
)
SUMMARY_USER = (
    "Statements that most of every group agreed with:\n{statements}\n\n"
    'Write one sentence that begins with "Participants agree that" and says what these '
    "statements say. Reply with the sentence only."
)


def bullet_list(texts: list[str]) -> str:
    return "\n".join(f"- {t}" for t in texts)
