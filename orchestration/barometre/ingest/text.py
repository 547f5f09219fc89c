"""Text normalisation used to match export headers and names against the seeds."""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Mapping

_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2011": "-",
        "\u0153": "oe",
        "\u0152": "oe",
        "\u00e6": "ae",
        "\u00c6": "ae",
        "\u2026": "...",
    }
)
_SPACES = re.compile(r"\s+")
_NAME_PUNCT = re.compile(r"[-'\".,()/]")


@functools.cache
def _combining_marks() -> dict[int, None]:
    """str.translate table deleting every character with a combining class (accents once
    NFKD has split them off): one C-level pass per text instead of a Python test per
    character, which mattered for the reference's tens of thousands of names."""
    return {cp: None for cp in range(sys.maxunicode + 1) if unicodedata.combining(chr(cp))}


def normalize_text(text: str) -> str:
    """Fold accents, typographic quotes, runs of spaces and case, for wording matching."""
    text = text.translate(_TYPOGRAPHY)
    if not text.isascii():  # NFKD and the marks leave ASCII text as it is
        text = unicodedata.normalize("NFKD", text).translate(_combining_marks())
    return _SPACES.sub(" ", text).strip().casefold()


def normalize_name(text: str) -> str:
    """Like normalize_text, and hyphens, apostrophes and punctuation count as spaces.

    "Saint-Étienne Métropole" and "saint etienne metropole" are the same collectivity.
    """
    return _SPACES.sub(" ", _NAME_PUNCT.sub(" ", normalize_text(text))).strip()


_JOIN = "\x00"  # no step below touches it: not a space, a mark, a letter or punctuation
_AROUND_JOIN = re.compile(" ?\x00 ?")


def _translate_present(text: str, table: Mapping[int, str | None]) -> str:
    """`text.translate(table)`, as one `str.replace` per character of the table that the
    text holds: on a long text far faster than translate's lookup per character (the
    table's replacements hold none of its characters, so the order does not matter)."""
    for character in set(text).intersection(map(chr, table)):
        text = text.replace(character, table[ord(character)] or "")
    return text


def normalize_names(texts: list[str]) -> list[str]:
    """`[normalize_name(t) for t in texts]`, each step done once over all the texts joined
    (C-level passes instead of ten calls per name: the reference holds up to ~10⁵ names).

    Identical by construction: every step maps characters independently (translate,
    NFKD, whose reordering of marks stops at the separator, a starter; casefold, which
    has no context rule and never makes or unmakes a space: checked in the tests), or
    works on runs the separator ends (spaces, punctuation); the per-name strip is the
    space on either side of a separator.
    """
    if not texts or any(_JOIN in t for t in texts):
        return [normalize_name(t) for t in texts]  # a text holds the separator itself
    joined = _translate_present(_JOIN.join(texts), _TYPOGRAPHY)
    joined = _translate_present(unicodedata.normalize("NFKD", joined), _combining_marks())
    joined = _NAME_PUNCT.sub(" ", joined.casefold())
    joined = _AROUND_JOIN.sub(_JOIN, _SPACES.sub(" ", joined)).strip(" ")
    return joined.split(_JOIN)
