"""Catalogue search: what an item's search text holds, and how a query matches and ranks items.

An item's ``search_text`` holds, for its name and each keyword, the terms: the text itself (also
without punctuation when it has some), its full pinyin without spaces and its pinyin initials, all
lower-cased and NFKC-normalised (full-width brackets and letters become half-width), each term
between two ``|``. An empty term (``||``) ends the name's terms and starts the keywords'. So an item
named 内资有限公司设立登记 with the keyword 营业执照 has
``|内资有限公司设立登记|neiziyouxiangongsishelidengji|nzyxgssldj||营业执照|yingyezhizhao|yyzz|``
and the queries 营业, yingye, yyzz and "ying ye" all find it.

A query is matched with ``search_text LIKE '%q%'`` (``__contains``): on PostgreSQL a ``pg_trgm``
GIN index (migration ``catalogue.0002``) serves it; the separator never occurs in a normalised query,
so a query never matches across two terms. Ranking happens in the database, in two tiers that
indexes serve page by page (``SearchResults``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from pypinyin import Style, lazy_pinyin, load_phrases_dict

SEPARATOR = "|"

# Readings pypinyin's default (most frequent) reading gets wrong in this domain. Its phrase
# dictionary already handles most heteronyms (银行 yinhang, 行政 xingzheng, 会计 kuaiji).
_PHRASES = {
    "长三角": [["cháng"], ["sān"], ["jiǎo"]],
    "长宁": [["cháng"], ["níng"]],
    "长江": [["cháng"], ["jiāng"]],
    "长丰": [["cháng"], ["fēng"]],
    "长兴": [["cháng"], ["xīng"]],
    "长干": [["cháng"], ["gān"]],
    "长山": [["cháng"], ["shān"]],
    "长期": [["cháng"], ["qī"]],
}
load_phrases_dict(_PHRASES)

# Ranks, best first.
RANK_EXACT_NAME = 0  # the query is the name, its full pinyin or its initials
RANK_NAME_PREFIX = 1  # the name (or its pinyin, or its initials) starts with the query
RANK_OTHER = 2  # the query occurs in the name or a keyword


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower().replace(SEPARATOR, " ").strip()


def _latin(tokens: Iterable[str]) -> str:
    """Joins pinyin tokens, keeping only ASCII letters and digits (drops punctuation and spaces)."""
    return "".join(ch for ch in "".join(tokens).lower() if ch.isascii() and ch.isalnum())


def terms_for(text: str) -> list[str]:
    """The search terms of one name or keyword: the text, its full pinyin, its pinyin initials."""
    folded = _fold(text)
    if not folded:
        return []
    compact = "".join(ch for ch in folded if ch.isalnum())  # 户口迁移(准予迁入) → 户口迁移准予迁入
    terms = [folded, compact]
    # Non-Chinese runs (digits, Latin letters) come back unchanged as one token each.
    terms.append(_latin(lazy_pinyin(folded, style=Style.NORMAL)))
    terms.append(_latin(lazy_pinyin(folded, style=Style.FIRST_LETTER)))
    out: list[str] = []
    for t in terms:
        if t and t not in out:
            out.append(t)
    return out


def name_keys(name: str) -> tuple[str, str]:
    """(full pinyin, initials) of a name, folded like the search terms: what prefix ranking matches."""
    folded = _fold(name)
    return _latin(lazy_pinyin(folded, style=Style.NORMAL)), _latin(
        lazy_pinyin(folded, style=Style.FIRST_LETTER)
    )


def search_text_for(*, name: str, keywords: Iterable[str] = ()) -> str:
    """The ``search_text`` of an item with this name and these keywords."""
    name_terms = terms_for(name)
    keyword_terms: list[str] = []
    for text in keywords:
        for t in terms_for(text):
            if t not in name_terms and t not in keyword_terms:
                keyword_terms.append(t)
    if not name_terms and not keyword_terms:
        return ""
    # "|n1|n2|" + "|k1|k2|" = "|n1|n2||k1|k2|": the empty term marks where the name's terms end.
    text = SEPARATOR + SEPARATOR.join(name_terms) + SEPARATOR
    if keyword_terms:
        return text + SEPARATOR + SEPARATOR.join(keyword_terms) + SEPARATOR
    return text + SEPARATOR


def normalise_query(query: str) -> list[str]:
    """The terms a query must all match: "Ying Ye " → ["yingye"]; "营业 执照" → ["营业", "执照"].

    Strip, fold case and width, collapse spaces; a query in Latin letters and digits only is
    pinyin, so its spaces are dropped ("ying ye zhi zhao" is one word).
    """
    folded = " ".join(_fold(query or "").split())
    if not folded:
        return []
    if folded.isascii():
        return [folded.replace(" ", "")]
    return folded.split(" ")


# Counting every match of a broad query ("营业" matches a third of a 150,000-item catalogue) costs
# more than the page itself; beyond this many, the count is reported as "more than".
COUNT_CAP = 1000


class SearchResults:
    """The matches of a query, best first, fetched a page at a time.

    Two tiers, each served by an index so the database stops after one page: items whose name
    (in Chinese, pinyin or initials) starts with the query, the exact name first; then the other
    matches, by name. Supports slicing, ``count()`` (capped at ``COUNT_CAP``; see ``count_capped``)
    and iteration, so paginators and the API use it like a queryset.
    """

    def __init__(self, matches: QuerySet, *, raw: str, first: str, prefix_base: QuerySet | None = None):
        prefix = (
            Q(name__startswith=raw) | Q(name_pinyin__startswith=first) | Q(name_initials__startswith=first)
        )
        exact = Case(
            When(Q(name=raw) | Q(name_pinyin=first) | Q(name_initials=first), then=Value(RANK_EXACT_NAME)),
            default=Value(RANK_NAME_PREFIX),
            output_field=IntegerField(),
        )
        order = ("name", "city_code", "implementation_code")
        base = matches if prefix_base is None else prefix_base
        self._prefixed = base.filter(prefix).annotate(search_rank=exact).order_by("search_rank", *order)
        self._others = matches.exclude(prefix).annotate(search_rank=Value(RANK_OTHER)).order_by(*order)
        self._count: int | None = None
        self._prefixed_count: int | None = None

    def _n_prefixed(self) -> int:
        if self._prefixed_count is None:
            self._prefixed_count = self._prefixed.count()
        return self._prefixed_count

    def __getitem__(self, key):
        if isinstance(key, int):
            rows = self[key : key + 1]
            if not rows:
                raise IndexError(key)
            return rows[0]
        start, stop = key.start or 0, key.stop
        if stop is None:
            return list(self)[start:]
        rows = list(self._prefixed[start:stop])
        if len(rows) == stop - start:
            return rows
        # The first tier ran out inside this page: its size is now known without counting.
        n_prefixed = start + len(rows) if rows else self._n_prefixed()
        rest_start = max(0, start - n_prefixed)
        return rows + list(self._others[rest_start : rest_start + (stop - start) - len(rows)])

    def __iter__(self):
        yield from self._prefixed
        yield from self._others

    def count(self) -> int:
        if self._count is None:
            self._count = min(
                self._prefixed[: COUNT_CAP + 1].count() + self._others[: COUNT_CAP + 1].count(), COUNT_CAP + 1
            )
        return self._count

    @property
    def count_capped(self) -> bool:
        return self.count() > COUNT_CAP


def apply(queryset: QuerySet, query: str):
    """Filters ``queryset`` of items to those matching ``query``, best first (see ``SearchResults``).

    Without a query the queryset is returned unfiltered, in catalogue order (city, 基本编码).
    """
    terms = normalise_query(query)
    if not terms:
        return queryset.order_by("city_code", "basic_code", "implementation_code")
    raw = " ".join(unicodedata.normalize("NFKC", " ".join((query or "").split())).split())
    # A one-term query whose name starts with it matches by definition: the prefix tier needs no
    # LIKE '%q%' (building that costs more than the index look-ups it filters).
    contained = queryset
    for term in terms:
        contained = contained.filter(search_text__contains=term)
    return SearchResults(
        contained, raw=raw, first=terms[0], prefix_base=queryset if len(terms) == 1 else None
    )
