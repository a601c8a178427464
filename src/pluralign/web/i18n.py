"""Languages of the web app's own text: gettext catalogues, negotiation, one Jinja env per language.

The page text lives in ``web/locale/<lang>/LC_MESSAGES/messages.po`` (Babel/gettext; the compiled
``messages.mo`` next to it is committed and a test checks it matches the ``.po``). Templates mark
text with ``{% trans %}...{% endtrans %}`` or ``_("...")`` (``jinja2.ext.i18n``, new-style
gettext: ``_("%(n)s left", n=3)``, autoescaped). Each language gets its own Jinja environment with
``install_gettext_translations`` done once, so concurrent requests in other languages never share
a mutable translator.

Which language a request is answered in (:func:`request_language`): the participant's stored
``Participant.language`` on participant pages (set by ``current_participant``), else the language
chosen with the picker (kept in the session), else the best match of ``Accept-Language``
(RFC 9110 §12.5.4 quality values), else English. Workflow to add a language: docs/web.md
"Languages".
"""

from __future__ import annotations

import functools
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
DEFAULT = "en"
LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch"}
"""Languages the page text is available in: code → name in that language (for the picker)."""

ENGLISH_NAMES: dict[str, str] = {"en": "English", "de": "German"}
"""English names, used in prompts to the translating model (any BCP 47 code works there)."""


def normalise(code: str | None) -> str | None:
    """``de-AT`` / ``de_at`` → ``de`` when it is one of :data:`LANGUAGES`, else ``None``."""
    if not code:
        return None
    code = code.strip().replace("_", "-").lower()
    if code in LANGUAGES:
        return code
    primary = code.split("-", 1)[0]
    return primary if primary in LANGUAGES else None


def negotiate(accept_language: str | None) -> str:
    """The best of :data:`LANGUAGES` for an ``Accept-Language`` header, or :data:`DEFAULT`.

    Ranges are ordered by quality ``q`` (default 1; ``q=0`` means "not acceptable"), ties in
    header order; ``de-CH`` matches ``de``. ``*`` matches the default.
    """
    if not accept_language:
        return DEFAULT
    ranked: list[tuple[float, int, str]] = []
    for pos, part in enumerate(accept_language.split(",")):
        fields = part.strip().split(";")
        tag, q = fields[0].strip(), 1.0
        for param in fields[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag and q > 0:
            ranked.append((-q, pos, tag))
    for _q, _pos, tag in sorted(ranked):
        if tag == "*":
            return DEFAULT
        found = normalise(tag)
        if found:
            return found
    return DEFAULT


@functools.cache
def translations(lang: str):
    """The compiled catalogue of ``lang`` (``NullTranslations`` for English: msgids are English)."""
    from babel.support import NullTranslations, Translations

    if lang == DEFAULT:
        return NullTranslations()
    found = Translations.load(str(LOCALE_DIR), [lang], DOMAIN)
    if not isinstance(found, Translations):  # babel returns NullTranslations when missing
        raise FileNotFoundError(
            f"no compiled catalogue {LOCALE_DIR}/{lang}/LC_MESSAGES/{DOMAIN}.mo"
        )
    return found


def gettext(message: str, lang: str, **variables) -> str:
    """Translate a message from Python code (e.g. a notice passed to a template). The message
    comes first so that ``pybabel extract`` finds it with its default ``gettext`` keyword."""
    text = translations(lang).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, lang: str, **variables) -> str:
    """The singular or plural form for ``n`` in ``lang`` (by the catalogue's plural rule), with
    ``%(n)s`` and the other placeholders filled in."""
    text = translations(lang).ngettext(singular, plural, n)
    return text % {"n": n, **variables}


def error_text(exc, lang: str, *, with_hint: bool = True) -> str:
    """A :class:`~pluralign.errors.PluralignError` as the user reads it in ``lang``: ``where:
    message`` (and the hint on a new line). The one place where raised errors are translated:
    every message marked with ``pluralign.errors.N_`` (and the "line"/"column" words of
    ``errors.at``) comes out in ``lang``; unmarked text stays English."""
    return exc.render(translations(lang).gettext, with_hint=with_hint)


def text(message, lang: str) -> str | None:
    """A single message (e.g. an error's hint, an ``HTTPException`` detail) in ``lang`` when it
    was marked with ``N_``; any other text as it is."""
    from pluralign.errors import translate

    return translate(message, translations(lang).gettext)


def request_language(request) -> str:
    """The language to answer ``request`` in (see module docstring)."""
    chosen = getattr(request.state, "language", None) or request.session.get("lang")
    return normalise(chosen) or negotiate(request.headers.get("accept-language"))


def language_name(code: str) -> str:
    """Name of a language for prompts: English name when known, else the code itself."""
    return ENGLISH_NAMES.get(code, code)
