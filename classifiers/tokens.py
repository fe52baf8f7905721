"""Cached annotations read back as token arrays, without spaCy.

Reprocessing stored text reads every token from the annotation cache (nlp.py); building spaCy
Docs from it meant importing spaCy (about half a second of a process start, most of an inline
``evidencia reprocess`` of an archive) and a Doc per text. A ``TokenDoc`` holds an entry's
token rows as they were stored and answers the part of spaCy's Doc, Span and Token interface the
rules, units, scope and features read: ``len``, ``to_array``, ``vocab.strings``, ``sents``,
slices, and a token's text, position, spacing, tags and lexical flags. Every value is the one
spaCy's Doc rebuilt from the same entry gives (tests/classifiers/test_tokens.py reads both).

An entry names its strings with the ids the vocabulary gave them when it was written (``ids``,
beside DocBin's ``strings``), so no string is hashed here; an entry without them, or whose
tokens name a string it does not hold, is not read here (nlp.py then builds spaCy Docs).
"""

from __future__ import annotations

import importlib.util
import unicodedata
from functools import lru_cache
from pathlib import Path

from classifiers import defaults

__all__ = ["ORTH", "NORM", "LEMMA", "POS", "TAG", "SENT_START", "MORPH", "IS_PUNCT", "POS_IDS",
           "TokenDoc", "TokenSpan", "Token", "read_entry", "is_content_word", "is_punct"]

#: spaCy's attribute ids (``spacy.attrs``) and universal part-of-speech ids
#: (``spacy.parts_of_speech.IDS``): fixed enums of spaCy 3, checked against spaCy in the tests
ORTH, NORM, LEMMA, POS, TAG, SENT_START, MORPH, IS_PUNCT = 65, 67, 73, 74, 75, 80, 453, 5
#: the MORPH id of a token without features (spaCy's symbol ``_``)
EMPTY_MORPH = 456
POS_IDS = {
    "": 0, "ADJ": 84, "ADP": 85, "ADV": 86, "AUX": 87, "CONJ": 88, "CCONJ": 89, "DET": 90,
    "INTJ": 91, "NOUN": 92, "NUM": 93, "PART": 94, "PRON": 95, "PROPN": 96, "PUNCT": 97,
    "SCONJ": 98, "SYM": 99, "VERB": 100, "X": 101, "EOL": 102, "SPACE": 103,
}
_POS_NAMES = {v: k for k, v in POS_IDS.items()}

#: id -> string of every string the entries read so far named (ids are the vocabulary's: hashes
#: of the strings, the same in every process)
_STRINGS: dict[int, str] = {0: ""}
#: where a TokenDoc's tokens are computed from their words, not stored: id -> value
_PUNCT: dict[int, int] = {}


class Strings:
    """The id -> string half of spaCy's StringStore, for the strings of the entries read."""

    __slots__ = ()

    def __getitem__(self, key: int) -> str:
        return _STRINGS[key]

    def __contains__(self, key: int) -> bool:
        return key in _STRINGS


class Vocab:
    """What the rules read of a Doc's vocabulary: its strings."""

    __slots__ = ("strings",)

    def __init__(self) -> None:
        self.strings = Strings()


_VOCAB = Vocab()


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    """spaCy's stop words of the pipeline's language (``spacy.lang.<lang>.stop_words``), read
    from spaCy's own file without importing spaCy (a plain module with one set in it)."""
    spec = importlib.util.find_spec("spacy")
    path = (Path(next(iter(spec.submodule_search_locations))) / "lang"
            / defaults.SPACY_LANGUAGE / "stop_words.py")
    namespace: dict = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)  # noqa: S102
    return frozenset(namespace["STOP_WORDS"])


def is_content_word(text: str) -> bool:
    """spaCy's ``is_alpha and not is_stop and len(text) > 2`` for a word of this text: the
    lexical attributes are functions of the word's text (``spacy.lang.lex_attrs``)."""
    return text.isalpha() and text.lower() not in _stop_words() and len(text) > 2


def is_punct(text: str) -> bool:
    """spaCy's ``is_punct`` (``spacy.lang.lex_attrs.is_punct``)."""
    return all(unicodedata.category(c).startswith("P") for c in text)


class TokenDoc:
    """One text's tokens as stored: a row of attribute values per token (the entry's
    ``attrs``, as ``Doc.to_array`` gave them) and whether a space follows each."""

    __slots__ = ("_rows", "_attrs", "_spaces", "_texts", "_starts", "__weakref__")

    vocab = _VOCAB

    def __init__(self, rows, attrs: list[int], spaces: list[bool]):
        self._rows = rows  # numpy uint64 array, one row a token, or token_rows.Rows
        self._attrs = {attr: k for k, attr in enumerate(attrs)}
        self._spaces = spaces
        self._texts: list[str] | None = None
        self._starts: list[int] | None = None

    def __len__(self) -> int:
        return len(self._spaces)

    def to_array(self, attrs):
        """``Doc.to_array``: a column per attribute (one attribute: a flat array). Rows held
        as lists (``token_rows.Rows``, how the annotation cache reads an entry) give ``Rows``
        of the same values, without numpy (its import, ~60 ms, cost more than analysing the
        few texts a reprocess after an edit of the patterns reads again)."""
        if isinstance(attrs, int):
            return self.to_array([attrs])[:, 0]
        columns = getattr(self._rows, "columns", None)
        if columns is not None:
            return type(self._rows)([self._punct() if attr == IS_PUNCT
                                     else list(columns[self._attrs[attr]]) for attr in attrs],
                                    len(self))
        import numpy

        if IS_PUNCT not in attrs:
            return self._rows[:, [self._attrs[a] for a in attrs]]
        out = numpy.zeros((len(self), len(attrs)), dtype="uint64")
        for k, attr in enumerate(attrs):
            out[:, k] = self._punct() if attr == IS_PUNCT else self._rows[:, self._attrs[attr]]
        return out

    def _punct(self) -> list[int]:
        orths = self.column(ORTH)
        out = list(map(_PUNCT.get, orths))
        if None in out:
            if len(_PUNCT) > 500_000:
                _PUNCT.clear()
            for k, orth in enumerate(orths):
                if out[k] is None:
                    out[k] = _PUNCT[orth] = int(is_punct(_STRINGS[orth]))
        return out

    def column(self, attr: int) -> list[int]:
        return self._rows[:, self._attrs[attr]].tolist()

    def texts(self) -> list[str]:
        """Each token's text."""
        if self._texts is None:
            self._texts = list(map(_STRINGS.__getitem__, self.column(ORTH)))
        return self._texts

    def text_length(self) -> int:
        """``len(doc.text)``."""
        return sum(map(len, self.texts())) + sum(self._spaces)

    def starts(self) -> list[int]:
        """Each token's character offset in the text (``Token.idx``)."""
        if self._starts is None:
            starts, at = [], 0
            for text, space in zip(self.texts(), self._spaces, strict=True):
                starts.append(at)
                at += len(text) + space
            self._starts = starts
        return self._starts

    @property
    def sents(self):
        """Sentences as spaCy's ``Doc.sents`` cuts them: at every token whose SENT_START is 1."""
        n = len(self)
        if n != 1 and not any(v != 0 for v in self.column(SENT_START)[1:]):
            raise ValueError("[E030] Sentence boundaries unset")
        starts = self.column(SENT_START)
        start = 0
        for i in range(1, n):
            if starts[i] == 1:
                yield TokenSpan(self, start, i)
                start = i
        if start != n:
            yield TokenSpan(self, start, n)

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, _step = key.indices(len(self))
            return TokenSpan(self, start, max(start, stop))
        n = len(self)
        if key < 0:
            key += n
        if not 0 <= key < n:
            raise IndexError(key)
        return Token(self, key)

    def __iter__(self):
        return (Token(self, i) for i in range(len(self)))

    @property
    def text(self) -> str:
        return self[:].text_with_ws

    def to_spacy(self, vocab):
        """The spaCy Doc of these tokens (for a pattern only spaCy's Matcher runs)."""
        from spacy.tokens import Doc

        columns = sorted(self._attrs, key=self._attrs.get)
        return Doc(vocab, words=self.texts(), spaces=list(self._spaces)).from_array(
            columns, self._rows)

    def __getstate__(self):
        return (self._rows, sorted(self._attrs, key=self._attrs.get), self._spaces,
                {o: _STRINGS[o] for o in set(self._rows.ravel().tolist()) if o in _STRINGS})

    def __setstate__(self, state) -> None:
        rows, attrs, spaces, strings = state
        _STRINGS.update(strings)
        self.__init__(rows, attrs, spaces)


class TokenSpan:
    """``doc[start:end]``: spaCy's Span for what is read of it."""

    __slots__ = ("doc", "start", "end")

    def __init__(self, doc: TokenDoc, start: int, end: int):
        self.doc, self.start, self.end = doc, start, end

    def __len__(self) -> int:
        return self.end - self.start

    def __iter__(self):
        doc = self.doc
        return (Token(doc, i) for i in range(self.start, self.end))

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, _step = key.indices(len(self))
            return TokenSpan(self.doc, self.start + start, self.start + max(start, stop))
        n = len(self)
        if key < 0:
            key += n
        if not 0 <= key < n:
            raise IndexError(key)
        return Token(self.doc, self.start + key)

    @property
    def text_with_ws(self) -> str:
        texts, spaces = self.doc.texts(), self.doc._spaces
        return "".join(texts[i] + " " if spaces[i] else texts[i]
                       for i in range(self.start, self.end))

    @property
    def text(self) -> str:
        text = self.text_with_ws
        if self.end > self.start and self.doc._spaces[self.end - 1]:
            text = text[:-1]
        return text


class Token:
    """``doc[i]``: spaCy's Token for what is read of it."""

    __slots__ = ("doc", "i")

    def __init__(self, doc: TokenDoc, i: int):
        self.doc, self.i = doc, i

    def _value(self, attr: int) -> int:
        doc = self.doc
        return int(doc._rows[self.i, doc._attrs[attr]])

    @property
    def text(self) -> str:
        return self.doc.texts()[self.i]

    @property
    def orth(self) -> int:
        return self._value(ORTH)

    @property
    def whitespace_(self) -> str:
        return " " if self.doc._spaces[self.i] else ""

    @property
    def text_with_ws(self) -> str:
        return self.text + self.whitespace_

    @property
    def idx(self) -> int:
        return self.doc.starts()[self.i]

    @property
    def norm_(self) -> str:
        return _STRINGS[self._value(NORM)]

    @property
    def lemma_(self) -> str:
        return _STRINGS[self._value(LEMMA)]

    @property
    def pos(self) -> int:
        return self._value(POS)

    @property
    def pos_(self) -> str:
        return _POS_NAMES[self._value(POS)]

    @property
    def tag_(self) -> str:
        return _STRINGS[self._value(TAG)]

    @property
    def morph(self) -> str:
        """``str(token.morph)``: "" for no features (whose id names spaCy's symbol ``_``)."""
        value = self._value(MORPH)
        return "" if value == EMPTY_MORPH else _STRINGS[value]

    @property
    def is_sent_start(self) -> bool | None:
        value = self._value(SENT_START)
        return None if value == 0 else value == 1

    @property
    def is_alpha(self) -> bool:
        return self.text.isalpha()

    @property
    def is_stop(self) -> bool:
        return self.text.lower() in _stop_words()

    @property
    def is_punct(self) -> bool:
        return is_punct(self.text)


#: the columns a TokenDoc must be able to name by string (those it reads as text)
_NAMED = (ORTH, NORM, LEMMA, MORPH)


def _named_ids(rows, attrs: list[int]) -> set[int]:
    return set(rows[:, [attrs.index(a) for a in _NAMED]].ravel().tolist())


def symbols(msg: dict, strings) -> dict[int, str]:
    """For an entry being written: id -> string of the ids its tokens name that are not among
    its strings' own (spaCy's symbols, such as the empty morphology's ``_``)."""
    import numpy

    attrs = msg["attrs"]
    rows = numpy.frombuffer(msg["tokens"], dtype="uint64").reshape((-1, len(attrs)))
    return {i: strings[i] for i in _named_ids(rows, attrs) - {0, *msg["ids"]}}


def read_entry(msg: dict) -> list[TokenDoc] | None:
    """The TokenDocs of an unpacked cache entry (DocBin's fields plus ``ids``), or None when it
    cannot be read here (no ids, or a token naming a string the entry does not hold)."""
    import numpy

    ids = msg.get("ids")
    attrs = msg["attrs"]
    if ids is None or len(ids) != len(msg["strings"]) or not set(_NAMED) <= set(attrs):
        return None
    lengths = numpy.frombuffer(msg["lengths"], dtype="int32")
    if not len(lengths):
        return []
    rows = numpy.frombuffer(msg["tokens"], dtype="uint64").reshape((-1, len(attrs)))
    named = dict(zip(ids, msg["strings"], strict=True))
    named.update(msg.get("symbols") or {})
    named[0] = ""
    if not _named_ids(rows, attrs) <= named.keys():
        return None
    flags = msg.get("flags") or [{} for _ in lengths]
    if any(flag.get("has_unknown_spaces") for flag in flags):
        return None
    _STRINGS.update(named)
    cuts = numpy.cumsum(lengths)[:-1]
    spaces = numpy.frombuffer(msg["spaces"], dtype=bool)
    return [TokenDoc(r, attrs, s.tolist())
            for r, s in zip(numpy.split(rows, cuts), numpy.split(spaces, cuts), strict=True)]
