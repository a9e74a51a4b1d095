"""spaCy's `id` tokenizer, adjusted for Indonesian news.

The changes keep units the annotated sets keep whole and that the sentencizer must not cut:
abbreviated ranks and titles with a period ("Kombes Pol.", "Jl.", "S.H."), numeric dates
("13/11", "25/8/2014", "17-05-2026"), a time glued to a date by a comma
("17-05-2026,06:57"), and money glued to its currency ("Rp2.918.000" -> "Rp", "2.918.000").

The adjustments are applied by the `pantau.id_news_tokenizer.v1` callback named in
`config.cfg` ([initialize.before_init]); spaCy saves the resulting rules with the model, so
`spacy.load` of a trained model needs none of this code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Final

import spacy
from spacy.language import Language
from spacy.symbols import ORTH
from spacy.tokenizer import Tokenizer
from spacy.util import compile_prefix_regex, compile_suffix_regex

# Abbreviations written with a final period in Indonesian news: police and military ranks,
# titles, academic degrees, address words. Without them the period ends a sentence.
ABBREVIATIONS: Final = [
    "Pol.",
    "Jl.",
    "Jln.",
    "Kab.",
    "Kec.",
    "Kel.",
    "Ds.",
    "Prov.",
    "Kota.",
    "No.",
    "Gg.",
    "RT.",
    "RW.",
    "Bpk.",
    "Ibu.",
    "Ny.",
    "Nn.",
    "Sdr.",
    "Sdri.",
    "Tn.",
    "Prof.",
    "Dr.",
    "dr.",
    "drg.",
    "Drs.",
    "Dra.",
    "Ir.",
    "H.",
    "Hj.",
    "KH.",
    "Ust.",
    "Hn.",
    "Letjen.",
    "Mayjen.",
    "Brigjen.",
    "Kol.",
    "Letkol.",
    "Mayor.",
    "Kapt.",
    "Lettu.",
    "Letda.",
    "Serka.",
    "Sertu.",
    "Kopda.",
    "Praka.",
    "Pratu.",
    "Ipda.",
    "Iptu.",
    "Aipda.",
    "Aiptu.",
    "Bripka.",
    "Brigpol.",
    "Briptu.",
    "Bripda.",
    "Bharada.",
    "Kompol.",
    "AKBP.",
    "Kombes.",
    "Irjen.",
    "Komjen.",
    "S.H.",
    "M.H.",
    "S.Pd.",
    "M.Pd.",
    "S.Ag.",
    "S.Sos.",
    "M.Si.",
    "S.Si.",
    "S.Kom.",
    "S.IK.",
    "S.IP.",
    "S.E.",
    "M.M.",
    "S.T.",
    "M.T.",
    "S.Ked.",
    "Sp.A.",
    "Sp.OG.",
    "S.Kep.",
    "S.Psi.",
    "M.Psi.",
    "dll.",
    "dsb.",
    "dkk.",
    "tgl.",
    "hlm.",
    "a.n.",
    "u.p.",
    "s.d.",
]

# Numeric dates kept whole: 13/11, 25/8/2014, 17-05-2026, 2026-05-17; clock times 06:57.
DATE_TOKEN: Final = re.compile(
    r"^(?:\d{1,2}[/-]\d{1,2}(?:[/-]\d{2,4})?|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[:.]\d{2}(?::\d{2})?)$"
)
# "17-05-2026,06:57": the date is split off before the comma and the time.
_DATE_BEFORE_TIME: Final = r"^\d{1,2}[/-]\d{1,2}[/-]\d{2,4}(?=,\d{1,2}[:.]\d{2})"
# "Rp2.918.000", "Rp.50.000": the currency is its own token.
_CURRENCY: Final = r"^(?:Rp|RP|rp|US\$|USD|\$)\.?(?=\d)"
# "(37)." style suffixes are handled by spaCy; "WIB," likewise. "2.918.000,-": the ",-".
_MONEY_DASH: Final = r"(?<=\d),-$"


def news_tokenizer(nlp: Language) -> Tokenizer:
    """A tokenizer like `nlp`'s with the news adjustments. Built in one go: the `id` language
    has ~16,000 exceptions (reduplications such as "anak-anak"), and every change of a
    tokenizer setting re-indexes them all (about 2 s)."""
    base: Any = nlp.tokenizer
    prefixes = [_DATE_BEFORE_TIME, _CURRENCY, *(nlp.Defaults.prefixes or ())]
    suffixes = [_MONEY_DASH, *(nlp.Defaults.suffixes or ())]
    return Tokenizer(
        nlp.vocab,
        rules={
            **(base.rules or {}),
            **{abbreviation: [{ORTH: abbreviation}] for abbreviation in ABBREVIATIONS},
        },
        prefix_search=compile_prefix_regex(prefixes).search,
        suffix_search=compile_suffix_regex(suffixes).search,
        infix_finditer=base.infix_finditer,
        # A compiled pattern's .match, not a Python function, so spaCy saves it with the model.
        token_match=DATE_TOKEN.match,
        url_match=base.url_match,
    )


def customise_tokenizer(nlp: Language) -> Language:
    nlp.tokenizer = news_tokenizer(nlp)
    return nlp


@spacy.registry.callbacks("pantau.id_news_tokenizer.v1")
def make_tokenizer_callback() -> Callable[[Language], Language]:
    return customise_tokenizer


@lru_cache(maxsize=1)
def news_tokenizer_nlp() -> Language:
    """A blank `id` pipeline with the news tokenizer and a sentencizer (no NER); shared, so
    callers must not change it."""
    nlp = customise_tokenizer(spacy.blank("id"))
    nlp.add_pipe("sentencizer")
    return nlp


# -- loading a trained model faster -----------------------------------------------------

LOADED_TOKENIZER: Final = "pantau.loaded_news_tokenizer.v1"


def anchor_prefix_search(tokenizer: Tokenizer) -> None:
    """Makes the prefix search try the start of the string only.

    spaCy joins its prefix pieces as "^a|^b|…" and calls the pattern's `.search`, which
    tries every position of every token before giving up (a third of the tokenizer's time
    in this pipeline). A prefix can only match at the start, so `.match` of the same
    alternatives gives the same prefixes. One exception: spaCy's default HTML-tag piece
    `<(b|strong|…)\\s?/>|<a([^>]+)>` has its own top-level "|", which leaves `<a…>` without
    the anchor, so `.search` splits "kata<abc>" oddly at "kata<"; anchored, it stays whole.
    Changing the setting re-indexes the tokenizer exceptions (about 2 s): callers set it
    while the tokenizer has no rules."""
    search = tokenizer.prefix_search
    pattern = getattr(getattr(search, "__self__", None), "pattern", None)
    if isinstance(pattern, str):
        tokenizer.prefix_search = re.compile(f"^(?:{pattern})").match


class LoadedNewsTokenizer(Tokenizer):
    """A Tokenizer that `spacy.load` fills from a saved model with one indexing of the
    ~16,000 exceptions instead of three (spaCy first builds the `id` language's default
    tokenizer, then loads the saved one, then the prefix change re-indexes), and with the
    anchored prefix search (see `anchor_prefix_search`). Only for loading a model to run
    it: the saved model itself is plain spaCy and loads without this code."""

    def from_bytes(self, bytes_data: bytes, *, exclude: Any = ()) -> LoadedNewsTokenizer:
        import srsly

        super().from_bytes(bytes_data, exclude=[*exclude, "exceptions"])
        anchor_prefix_search(self)  # no rules yet: no re-indexing
        if "exceptions" not in exclude:
            rules = srsly.msgpack_loads(bytes_data).get("exceptions")
            if isinstance(rules, dict):
                self.rules = rules
        return self


@spacy.registry.tokenizers(LOADED_TOKENIZER)
def make_loaded_news_tokenizer() -> Callable[[Language], Tokenizer]:
    def create(nlp: Language) -> Tokenizer:
        return LoadedNewsTokenizer(nlp.vocab)

    return create
