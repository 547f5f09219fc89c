"""The batch name normalisation gives, name for name, what normalize_name gives."""

from __future__ import annotations

import random
import sys
import unicodedata

from barometre.ingest.text import _NAME_PUNCT, _SPACES, normalize_name, normalize_names

# Characters that exercise every step: accents precomposed and combining (also at a
# name's edges, where the separator meets them), typography, ligatures, punctuation,
# spaces of every kind, casefold's expansions (ß, ŉ, İ, ﬁ), compatibility forms (NFKD:
# ², ½, full-width letters) and the separator's neighbours in the control range.
ALPHABET = (
    "aeiouyAEIOUY éèêëÉÈàâäçÇœŒæÆ"
    "\u0301\u0300\u0327\u0308\u0323\u0345\u05b0"
    "\u2018\u2019\u201a\u2032\u00b4`\u201c\u201d\u201e\u00ab\u00bb\u2013\u2014\u2011\u2026"
    "-'\".,()/;:!?"
    " \t\n\r\u00a0\u2009\u3000\u200b\x1c\x1f\x01"
    "ßŉİﬁΣσς²½ＡＢ１"
)


def _random_names(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(ALPHABET, k=rng.randint(0, 24))) for _ in range(count)]


def test_the_batch_normalises_each_name_as_normalize_name_does() -> None:
    names = [*_random_names(20_000, 7), "", " ", "Saint-Étienne  Métropole", "\u0301x"]
    assert normalize_names(names) == [normalize_name(n) for n in names]


def test_a_name_holding_the_separator_is_normalised_alone() -> None:
    names = ["a\x00b", "Métropole  de Lyon", ""]
    assert normalize_names(names) == [normalize_name(n) for n in names]
    assert normalize_names([]) == []


def test_casefold_never_makes_or_unmakes_a_space_or_punctuation() -> None:
    """What lets the batch casefold before collapsing spaces (normalize_name does after):
    over every code point, casefold keeps a space a space and makes none."""
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        folded = char.casefold()
        if _SPACES.fullmatch(char):
            assert folded == char, hex(code)
        else:
            assert not _SPACES.search(folded), hex(code)
            assert bool(_NAME_PUNCT.search(folded)) == bool(_NAME_PUNCT.search(char)), hex(code)
    assert unicodedata.combining("\x00") == 0  # the separator is a starter for NFKD
