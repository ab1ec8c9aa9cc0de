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
so a query never matches across two terms. Ranking happens in the database.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import StrIndex, Substr
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
RANK_TERM_PREFIX = 2  # a keyword (or its pinyin, or its initials) starts with the query
RANK_OTHER = 3


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


def apply(queryset: QuerySet, query: str) -> QuerySet:
    """Filters ``queryset`` of items to those matching ``query`` and ranks them in the database.

    Order: the query is the name (in Chinese, pinyin or initials); the name starts with it; a
    keyword starts with it; the rest. Ties by name. Without a query the queryset is returned
    unfiltered, in catalogue order (city, 基本编码).
    """
    terms = normalise_query(query)
    if not terms:
        return queryset.order_by("city_code", "basic_code", "implementation_code")
    for term in terms:
        queryset = queryset.filter(search_text__contains=term)
    raw = " ".join((query or "").split())
    phrase = " ".join(unicodedata.normalize("NFKC", raw).split())
    first = terms[0]
    # The name's terms: search_text up to the empty term "||" that starts the keywords'.
    name_terms = Substr("search_text", 1, StrIndex("search_text", Value(SEPARATOR * 2)))
    rank = Case(
        When(
            Q(name__in=[raw, phrase]) | Q(search_name_terms__contains=f"{SEPARATOR}{first}{SEPARATOR}"),
            then=Value(RANK_EXACT_NAME),
        ),
        When(
            Q(name__startswith=raw) | Q(search_name_terms__contains=SEPARATOR + first),
            then=Value(RANK_NAME_PREFIX),
        ),
        When(search_text__contains=SEPARATOR + first, then=Value(RANK_TERM_PREFIX)),
        default=Value(RANK_OTHER),
        output_field=IntegerField(),
    )
    return (
        queryset.alias(search_name_terms=name_terms)
        .annotate(search_rank=rank)
        .order_by("search_rank", "name", "city_code", "implementation_code")
    )
