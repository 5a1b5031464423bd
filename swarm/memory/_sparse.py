"""The keyword half of hybrid search: BM25 term weights as Qdrant sparse vectors.

A document's vector holds BM25's saturated term frequency for each of its
terms; the collection's sparse vector has Qdrant's ``IDF`` modifier, so the
engine multiplies in each term's inverse document frequency over the points
it holds at query time (the corpus statistic is Qdrant's, never ours to keep in
step). A query's vector is 1.0 per distinct term. Terms are code-aware:
``applyDiscount`` and ``apply_discount`` both give ``apply`` and ``discount``,
and a light suffix strip lets "totals" meet "total".
"""

from __future__ import annotations

import re
import zlib
from collections import Counter

K1 = 1.2
B = 0.75
#: A fixed average document length (terms): Qdrant's own BM25 model does the same, so a
#: point's vector never depends on what else was indexed (rebuild == incremental).
AVG_LEN = 100.0
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*|[0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_STOP = """a an and are as at be by do does for from has have how i if in into is it its of on
or our so that the their then there these this to was we were what when where which
who why will with you your self def return none true false class import"""
STOPWORDS = frozenset(_STOP.split())


def terms(text: str) -> list[str]:
    """The text's terms, in order: identifiers split into words, lower-cased, stemmed."""
    out: list[str] = []
    for token in _TOKEN.findall(text):
        for part in _CAMEL.split(token):
            word = _stem(part.lower())
            if len(word) > 1 and word not in STOPWORDS:
                out.append(word)
    return out


def _stem(word: str) -> str:
    """A small suffix strip (plural, -ing, -ed): enough for code words, never a dictionary."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix) and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def term_id(term: str) -> int:
    """A stable 31-bit id for a term (crc32: the same in every process and release)."""
    return zlib.crc32(term.encode()) & 0x7FFFFFFF


def document_vector(text: str) -> tuple[list[int], list[float]]:
    """(indices, values) of a document: BM25's saturated term frequency per term."""
    words = terms(text)
    counts = Counter(term_id(w) for w in words)
    norm = K1 * (1.0 - B + B * len(words) / AVG_LEN)
    items = sorted(counts.items())
    return [i for i, _ in items], [tf * (K1 + 1.0) / (tf + norm) for _, tf in items]


def query_vector(text: str) -> tuple[list[int], list[float]]:
    """(indices, values) of a query: 1.0 per distinct term."""
    ids = sorted({term_id(w) for w in terms(text)})
    return ids, [1.0] * len(ids)
