"""Text normalisation used to match export headers and names against the seeds."""

from __future__ import annotations

import re
import unicodedata

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


def normalize_text(text: str) -> str:
    """Fold accents, typographic quotes, runs of spaces and case, for wording matching."""
    text = text.translate(_TYPOGRAPHY)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _SPACES.sub(" ", text).strip().casefold()


def normalize_name(text: str) -> str:
    """Like normalize_text, and hyphens, apostrophes and punctuation count as spaces.

    "Saint-Étienne Métropole" and "saint etienne metropole" are the same collectivity.
    """
    return _SPACES.sub(" ", _NAME_PUNCT.sub(" ", normalize_text(text))).strip()
