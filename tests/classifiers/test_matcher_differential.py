"""The hand-written matcher (classifiers/rules.py) finds exactly what spaCy's Matcher finds.

Every pattern of every file in classifiers/patterns/ is run by both over a varied body of text
tagged by the real pipeline: every other corpus source of the dev organisations, and text
generated from the patterns themselves (each pattern realised inside carrier sentences) under
edge cases: accents, case, OCR noise, table rows, punctuation runs. spaCy's Matcher returns
every way a pattern with quantifiers matches; ours returns, per rule and start token, the
longest. So the reference is spaCy's matches reduced the same way: for each (rule id, start) the
largest end. That is everything the engine reads (the unit and clause of a match's start, and
whether a match lies inside an external name).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter

import pytest

from classifiers.units import split_blocks

from .conftest import dev_source_documents


def _dev_source_texts() -> list[str]:
    """Block texts of every other corpus source of a dev organisation, as the engine would tag
    them (``dev_source_documents``: about as many sources as this test was written on)."""
    return [block.text for doc in dev_source_documents(every=2)
            for block in split_blocks(doc.pages)]


# ------------------------------------------------------------------ text made from the patterns

_FILLER = ["nuevo", "de", "la", "el", "primer", "gran", "nacional", "2024", "-", "y", "su"]
_CARRIERS = [
    "En la sesión del martes, {} según consta en el acta.",
    "{}.",
    "Se informa que {}, y luego {}; sin embargo {}.",
    "{} | {} | {}",
    "Durante el año {} con apoyo de la gerencia.",
    "- {}",
    "«{}», dijo la presidenta del sindicato...",
    "{} ({})",
]
_PUNCTUATION_RUNS = ["...", "!!!", "?!", ";;", "— –", "(((", "))", "« »", "…", "* * *", "|||",
                     "::", ",,", "--", "“”", "¿¡", "°º", "/", "&"]
_OCR_SWAPS = [("l", "1"), ("o", "0"), ("e", "c"), ("m", "rn"), ("i", "í"), ("a", "á"),
              ("n", "ñ"), ("u", "ü"), ("s", "5"), ("c", "e")]


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed
                                                  if unicodedata.category(c) != "Mn"))


def _ocr_noise(text: str, rng: random.Random) -> str:
    out = []
    for word in text.split(" "):
        roll = rng.random()
        if roll < 0.12:
            a, b = rng.choice(_OCR_SWAPS)
            word = word.replace(a, b, 1)
        elif roll < 0.17 and len(word) > 4:
            cut = rng.randrange(1, len(word) - 1)
            word = word[:cut] + rng.choice([" ", "-", "- ", "."]) + word[cut:]
        elif roll < 0.2:
            word = word + rng.choice(_PUNCTUATION_RUNS)
        out.append(word)
    joined = " ".join(out)
    return joined.replace("  ", " ").replace("  ", "  ")


def _word_for(tok: dict, pool: list[str], rng: random.Random) -> str | None:
    """A word that passes the lexical test of a token pattern (None when none is known)."""
    for attr in ("NORM", "LEMMA"):
        value = tok.get(attr)
        if value is None:
            continue
        if isinstance(value, str):
            return value
        if "IN" in value:
            return rng.choice(sorted(value["IN"]))
        if "NOT_IN" in value:
            return rng.choice([w for w in _FILLER if w not in value["NOT_IN"]])
        if "REGEX" in value:
            rx = re.compile(value["REGEX"])
            fits = [w for w in pool if rx.search(w)]
            return rng.choice(fits) if fits else None
    return rng.choice(_FILLER)


def _realise(pattern: list, pool: list[str], rng: random.Random) -> str | None:
    """Words for each token of the pattern, a quantified one repeated at its bounds, just past
    its upper bound (the pattern must then stop short or fail) or in between."""
    words = []
    for tok in pattern:
        lo, hi = _bounds(tok)
        hi = lo + 3 if hi is None else hi
        times = rng.choice(sorted({lo, min(lo + 1, hi), rng.randint(lo, hi), hi, hi + 1}))
        if tok.get("OP", "1") == "1":
            times = 1
        for _ in range(times):
            word = _word_for(tok, pool, rng)
            if word is None:
                return None
            words.append(word)
    return " ".join(words)


def _generated_texts(patterns: dict[str, list], pool: list[str], seed: int = 20261102) -> list:
    rng = random.Random(seed)
    phrases = []
    for _rule_id, pats in sorted(patterns.items()):
        for pattern in pats:
            for _ in range(6):
                phrase = _realise(pattern, pool, rng)
                if phrase:
                    phrases.append(phrase)
    texts = []
    for i, phrase in enumerate(phrases):
        carrier = rng.choice(_CARRIERS)
        others = [rng.choice(phrases) for _ in range(carrier.count("{}") - 1)]
        text = carrier.format(phrase, *others)
        variant = i % 7
        if variant == 1:
            text = text.upper()
        elif variant == 2:
            text = text.title()
        elif variant == 3:
            text = _strip_accents(text)
        elif variant == 4:
            text = _ocr_noise(text, rng)
        elif variant == 5:
            text = f"{rng.choice(_PUNCTUATION_RUNS)} {text} {rng.choice(_PUNCTUATION_RUNS)}"
        elif variant == 6:  # accents where none belong, and a row of a nationality table
            text = text.replace("a", "á", 1).replace("o", "ó", 1)
            text = f"Fila {i} | {text} | Haitiana | —"
        texts.append(text)
    return texts


# ------------------------------------------------------------------------------------ the test


#: spaCy expands ``{n,m}`` into m - n optional tokens, and its matcher follows every way through
#: them: 2 ** (m - n) states per start. A wider window is given to it as ``{n,}`` and the matches
#: longer than the pattern allows are dropped (exact when that window is the only token of
#: variable length, which _tractable checks).
_WIDE = 12


def _bounds(tok: dict) -> tuple[int, int | None]:
    op = tok.get("OP", "1")
    fixed = {"1": (1, 1), "?": (0, 1), "*": (0, None), "+": (1, None)}
    if op in fixed:
        return fixed[op]
    lo, comma, hi = op.strip("{}").partition(",")
    if not comma:
        return int(lo), int(lo)
    return int(lo or 0), (int(hi) if hi else None)


def _tractable(rule_id: str, pattern: list) -> tuple[list, int | None]:
    """(pattern spaCy can run, longest match allowed or None)."""
    bounds = [_bounds(tok) for tok in pattern]
    wide = [i for i, (lo, hi) in enumerate(bounds) if hi is not None and hi - lo > _WIDE]
    if not wide:
        return pattern, None
    variable = [i for i, (lo, hi) in enumerate(bounds) if hi != lo]
    assert variable == wide[:1], f"{rule_id}: a wide window beside other quantifiers"
    i = wide[0]
    rewritten = [*pattern[:i], {**pattern[i], "OP": f"{{{bounds[i][0]},}}"}, *pattern[i + 1:]]
    return rewritten, sum(hi for _lo, hi in bounds)


def _reference_matcher(vocab, patterns: dict):
    from spacy.matcher import Matcher

    matcher = Matcher(vocab)
    longest_allowed = {}
    for rule_id, pats in patterns.items():
        for n, pattern in enumerate(pats):
            key = f"{rule_id}\x00{n}"  # one key per pattern: each has its own length bound
            runnable, longest_allowed[key] = _tractable(rule_id, pattern)
            matcher.add(key, [runnable])
    return matcher, longest_allowed


def _reference(reference, doc) -> set[tuple[str, int, int]]:
    matcher, longest_allowed = reference
    strings = doc.vocab.strings
    longest: dict[tuple[str, int], int] = {}
    for key, start, end in matcher(doc):
        name = strings[key]
        bound = longest_allowed[name]
        if bound is not None and end - start > bound:
            continue
        k = (name.split("\x00")[0], start)
        longest[k] = max(longest.get(k, start), end)
    return {(rule_id, start, end) for (rule_id, start), end in longest.items()}


@pytest.fixture(scope="module")
def tagged_body():
    from classifiers.engine import get_ruleset
    from classifiers.nlp import fold, get_nlp

    nlp = get_nlp()
    ruleset = get_ruleset()
    corpus = list(dict.fromkeys(_dev_source_texts()))  # boilerplate repeats: tag it once
    pool = sorted({fold(w) for text in corpus for w in re.findall(r"\w+", text)})
    generated = _generated_texts(ruleset.patterns, pool)
    docs = list(nlp.pipe(corpus + generated, batch_size=256))
    return ruleset, docs, len(corpus)


def test_hand_written_matcher_equals_spacy_matcher(tagged_body):
    ruleset, docs, n_corpus = tagged_body
    reference = _reference_matcher(docs[0].vocab, ruleset.patterns)
    differences = []
    exercised: Counter = Counter()
    for i, doc in enumerate(docs):
        expected = _reference(reference, doc)
        found = ruleset.match(doc)
        assert len(found) == len(set(found)), f"duplicate matches in {doc.text!r}"
        if set(found) != expected:
            where = "corpus" if i < n_corpus else "generated"
            differences.append((where, doc.text[:160], sorted(set(found) - expected),
                                sorted(expected - set(found))))
        exercised.update(rule_id for rule_id, _s, _e in expected)
    assert not differences, "\n".join(
        f"{where}: {text!r}\n  only ours: {ours}\n  only spaCy: {theirs}"
        for where, text, ours, theirs in differences[:20]
    ) + f"\n({len(differences)} texts differ)"
    # the body of text must exercise the patterns, or the comparison proves little
    unexercised = sorted(set(ruleset.patterns) - set(exercised))
    assert len(unexercised) <= len(ruleset.patterns) // 10, unexercised
