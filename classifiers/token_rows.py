"""Annotation cache entries read back as token arrays without numpy or srsly.

After an edit of the patterns alone, a reprocess matches the edited rules' old and new versions
again on the cached tokens of the texts the edit may touch (``pattern_sets.Change.
same_matches``). Reading those tokens imported srsly to unpack each entry (~40 ms: its registry,
YAML, pickle and JSON modules) and numpy to cut its rows (~60 ms): more than the matching itself
on an archive of a hundred documents, where most steps read no token at all. An entry is small
(a few hundred tokens of seven attributes, a few hundred strings), so it is unpacked by the
``msgpack`` package alone (``unpackb``: the MessagePack that DocBin and
``annotation_cache._entry_bytes`` write), its rows kept as Python lists (``Rows``), and the
matcher reads them through ``MatchView`` (``RuleSet.match`` reads a doc's length, vocabulary
and ``to_array``). ``annotation_cache.read`` reads every plain entry here too, so a text
analysed again from its cached tokens imports neither (``TokenDoc.to_array`` of ``Rows`` gives
``Rows``). The values are the ones ``annotation_cache._read_entry`` gives with srsly and numpy
(``tests/classifiers/test_token_rows.py`` compares both on every other dev source: the tokens,
the installed rules' matches and whole analyses).

File handling only, as ``annotation_cache.py``: not in the classifier's fingerprint. An entry
this module does not read (no ids, user data, categories, span groups, a MessagePack extension,
a token naming a string the entry does not hold) is left to ``annotation_cache``.
"""

from __future__ import annotations

import sys
import zlib
from array import array

from classifiers import tokens

__all__ = ["MatchView", "Rows", "read_entry", "unpackb"]

#: what a DocBin stores for a Doc without span groups (msgpack's empty array, or nothing)
_NO_SPANS = (b"", b"\x90")
#: the columns a TokenDoc must be able to name by string (``tokens._NAMED``)
_NAMED = (tokens.ORTH, tokens.NORM, tokens.LEMMA, tokens.MORPH)


class Unsupported(ValueError):
    """A MessagePack form this reader does not take (an extension type): the entry is left to
    ``annotation_cache``'s reader (srsly)."""


def unpackb(data: bytes):
    """``srsly.msgpack.unpackb(data, raw=False, use_list=True, object_pairs_hook=dict)`` by the
    standalone ``msgpack`` package, the C unpacker srsly vendors without srsly's registry, YAML,
    pickle and JSON modules (its import ~3 ms against srsly's ~40): nil, booleans, integers,
    floats, strings (UTF-8), binary, arrays and maps. An extension type (srsly's hooks read
    numpy arrays from them) raises ``Unsupported``; truncated or trailing input a ValueError."""
    import msgpack

    return msgpack.unpackb(data, raw=False, use_list=True, strict_map_key=False,
                           ext_hook=_refuse_extension)


def _refuse_extension(code: int, data: bytes):
    raise Unsupported(f"MessagePack extension type {code}")


class Column(list):
    """One column of a ``Rows`` table (numpy's 1-D array, for what is read of it)."""

    __slots__ = ()

    def tolist(self) -> list[int]:
        return list(self)

    def ravel(self) -> Column:
        return self


class _Transposed:
    __slots__ = ("_rows",)

    def __init__(self, rows: Rows):
        self._rows = rows

    def tolist(self) -> list[list[int]]:
        return [list(column) for column in self._rows.columns]

    def __array__(self, dtype=None, copy=None):
        return self._rows.__array__(dtype).T


class Rows:
    """A table of token attribute values held as one list per column: what ``TokenDoc`` and the
    code that reads it ask of the numpy uint64 table ``tokens.read_entry`` gives, ``rows[i,
    j]``, ``rows[:, j]``, ``rows[:, [j, …]]``, ``rows[a:b]``, ``.T``, ``.ravel()``,
    ``.tolist()``, ``.shape``, each giving the same Python ints; ``numpy.asarray(rows)`` gives
    the table itself (spaCy's ``Doc.from_array`` reads it so, ``TokenDoc.to_spacy``)."""

    __slots__ = ("columns", "length")

    def __init__(self, columns: list[list[int]], length: int):
        self.columns = columns
        self.length = length

    @property
    def dtype(self):
        """numpy's uint64 (spaCy's ``Doc.from_array`` checks it)."""
        import numpy

        return numpy.dtype("uint64")

    @property
    def shape(self) -> tuple[int, int]:
        return (self.length, len(self.columns))

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, key):
        if isinstance(key, slice):
            kept = range(self.length)[key]
            return Rows([c[key] for c in self.columns], len(kept))
        rows, cols = key
        if not isinstance(rows, slice):
            if isinstance(cols, int):
                return self.columns[cols][rows]
            raise TypeError("a single row is not read")
        if isinstance(cols, int):
            return Column(self.columns[cols][rows])
        if isinstance(cols, list):
            return Rows([self.columns[j][rows] for j in cols], len(range(self.length)[rows]))
        raise TypeError(f"unsupported index {key!r}")

    @property
    def T(self) -> _Transposed:  # noqa: N802 (numpy's name)
        return _Transposed(self)

    def ravel(self) -> Column:
        columns = self.columns
        if len(columns) == 1:
            return Column(columns[0])
        return Column(value for row in zip(*columns, strict=True) for value in row)

    def tolist(self) -> list[list[int]]:
        return [list(row) for row in zip(*self.columns, strict=True)]

    def __array__(self, dtype=None, copy=None):
        """The numpy table (for spaCy's ``Doc.from_array``, ``TokenDoc.to_spacy``)."""
        import numpy

        out = numpy.array(self.tolist() if self.length else [], dtype="uint64")
        out = out.reshape((self.length, len(self.columns)))
        return out if dtype is None else out.astype(dtype)

    def __reduce__(self):
        return (Rows, (self.columns, self.length))


def read_entry(data: bytes) -> list | None:
    """The ``tokens.TokenDoc`` objects of a cache entry (its bytes as written), the values
    ``tokens.read_entry`` reads, or None when the entry is not of the plain form this module
    reads (then ``annotation_cache``'s reader decides, as before). A TokenDoc's rows are
    ``Rows``."""
    if sys.byteorder != "little" or array("Q").itemsize != 8 or array("i").itemsize != 4:
        return None  # DocBin's arrays are written in the machine's order
    try:
        msg = unpackb(zlib.decompress(data))
    except (ValueError, zlib.error):  # UnicodeDecodeError is a ValueError
        return None
    if not isinstance(msg, dict):
        return None
    try:
        if (msg.get("user_data") or any(msg["cats"])
                or any(g not in _NO_SPANS for g in msg.get("span_groups") or ())):
            return None
        ids, attrs, strings = msg.get("ids"), msg["attrs"], msg["strings"]
        if ids is None or len(ids) != len(strings) or not set(_NAMED) <= set(attrs):
            return None
        lengths = array("i")
        lengths.frombytes(msg["lengths"])
        if not len(lengths):
            return []
        width = len(attrs)
        values = array("Q")
        values.frombytes(msg["tokens"])
        spaces = msg["spaces"]
        total = sum(lengths)
        if len(values) != total * width or len(spaces) != total or min(lengths) < 0:
            return None
        named = dict(zip(ids, strings, strict=True))
        named.update(msg.get("symbols") or {})
        named[0] = ""
        columns = [values[j::width].tolist() for j in range(width)]
        for attr in _NAMED:
            if not named.keys() >= set(columns[attrs.index(attr)]):
                return None
        flags = msg.get("flags") or [{} for _ in lengths]
        if any(flag.get("has_unknown_spaces") for flag in flags):
            return None
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    tokens._STRINGS.update(named)
    docs = []
    start = 0
    for n in lengths:
        end = start + n
        docs.append(tokens.TokenDoc(Rows([c[start:end] for c in columns], n), attrs,
                                    list(map(bool, spaces[start:end]))))
        start = end
    return docs


class MatchView:
    """A ``tokens.TokenDoc`` as ``RuleSet.match`` reads it: its length, vocabulary and
    ``to_array`` (the columns a pattern tests), the columns as lists: the values
    ``TokenDoc.to_array`` gives (``IS_PUNCT`` from the token's text, as ``TokenDoc`` computes
    it), without numpy. Not for a RuleSet with spaCy's Matcher as a fallback (it reads spaCy
    Docs)."""

    __slots__ = ("doc",)

    vocab = tokens.TokenDoc.vocab

    def __init__(self, doc):
        self.doc = doc

    def __len__(self) -> int:
        return len(self.doc)

    def to_array(self, attrs: list[int]) -> Rows:
        doc = self.doc
        return Rows([doc._punct() if attr == tokens.IS_PUNCT else doc.column(attr)
                     for attr in attrs], len(doc))
