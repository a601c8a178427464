"""Helpers of the public-evaluation tests: an assembly with two scripted models attached."""

from __future__ import annotations

import json
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for sub in ("web", "llm"):
    if str(TESTS / sub) not in sys.path:
        sys.path.insert(0, str(TESTS / sub))

from web_helpers import client, create_assembly, csrf_of, field, join, login, make_app  # noqa: E402,F401

SLUG = "ai-rules"
CLAUSES_YAML = """clauses:
  - id: honest
    text: The assistant is honest about what it does not know.
  - id: kind
    text: The assistant is kind to the user.
"""
PROMPTS = [
    {"id": "p1", "prompt": "Will it rain tomorrow in Paris?", "clause_id": "honest"},
    {"id": "p2", "prompt": "My cat died, what should I do?"},
]


def scripted_answers(script) -> None:
    """Each model answers with its own name, so the answers of A and B differ."""
    script.default = lambda body: (
        f"[{body['model']}] answer to: {body['messages'][-1]['content']}\n\nIn short:\n<ok>"
    )


def prompts_jsonl(rows=PROMPTS) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def setup_eval(
    admin,
    token,
    base_url: str,
    slug: str = SLUG,
    *,
    b_url: str | None = None,
    a_model: str = "base",
    b_model: str = "tuned",
    tokens: int = 64,
) -> None:
    """Attach models 'base' (A) and 'tuned' (B), the two clauses and the two prompts, generate
    the answers and open the evaluation, through the admin pages."""
    root = f"/admin/a/{slug}/public-eval"
    r = admin.post(
        f"{root}/models",
        data={
            "csrf": token,
            "a_base_url": base_url,
            "a_model": a_model,
            "b_base_url": b_url or base_url,
            "b_model": b_model,
            "answer_tokens": str(tokens),
        },
    )
    assert r.status_code == 200 and "Models attached" in r.text, r.text
    r = admin.post(
        f"{root}/clauses",
        data={"csrf": token},
        files={"file": ("constitution.yaml", CLAUSES_YAML.encode(), "text/yaml")},
    )
    assert r.status_code == 200 and "2 clauses set" in r.text, r.text
    r = admin.post(
        f"{root}/prompts",
        data={"csrf": token},
        files={"file": ("prompts.jsonl", prompts_jsonl(), "application/jsonl")},
    )
    assert r.status_code == 200 and "2 prompts set" in r.text, r.text
    r = admin.post(f"{root}/generate", data={"csrf": token})
    assert r.status_code == 200 and "2 prompts answered by both models" in r.text, r.text
    r = admin.post(f"{root}/state", data={"csrf": token, "state": "open"})
    assert r.status_code == 200 and 'id="eval-state">open' in r.text, r.text


def rate(c, choice: str, slug: str = SLUG):
    """Rate the comparison on the page; returns (response, impression id, page html)."""
    page = c.get(f"/a/{slug}/rate")
    impression = field(page.text, "impression")
    assert impression is not None, page.text
    r = c.post(
        f"/a/{slug}/rate",
        data={"csrf": csrf_of(page.text), "impression": impression, "choice": choice},
    )
    return r, int(impression), page.text
