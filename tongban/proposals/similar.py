"""Similar cases (类案参考): past proposals and their replies that speak of the same thing.

Texts are segmented with jieba (its bundled dictionary, loaded once per process and quietly; nothing
is downloaded). Each proposal is one document: its title (counted twice), its text and the bodies of
its sent replies. The services write a :class:`~tongban.proposals.models.SearchDocument` row with
the document's term counts whenever the text changes (registration, a reply sent); rows are
appended, and the row a new one replaces is marked ``superseded``.

Each process keeps an in-memory inverted index over those rows and ranks with BM25 (k1 = 1.2,
b = 0.75). Before answering it reads the rows added since the last one it has seen (one indexed
query, normally empty), so every process sees a new reply at its next search; when the last row it
knows is gone or different (a restored database, a test's rollback) it rebuilds from scratch.
ADR 0007 explains the choice and ``bench/proposals.py`` measures it over 20,000 proposals.

A query keeps only its :data:`MAX_QUERY_TERMS` most telling terms (term frequency × idf), which
bounds the work of a long query without changing the top results in practice.
"""

from __future__ import annotations

import heapq
import logging
import math
import re
import threading
from array import array
from collections import Counter
from dataclasses import dataclass

K1, B = 1.2, 0.75
MAX_QUERY_TERMS = 24
# A term in more than this share of the documents says little about any of them (its idf is low)
# and costs the most to score: it is left out of a query that has enough other terms.
COMMON_SHARE = 0.15
MIN_QUERY_TERMS = 6
AVGDL_DRIFT = 0.10
TITLE_WEIGHT = 2
_WORD = re.compile(r"^(?:[\u4e00-\u9fff]{2,}|[A-Za-z][A-Za-z0-9]{1,})$")
# Function words and the formulas every reply uses: they say nothing about the topic.
STOPWORDS = frozenset(
    """
    我们 你们 他们 您的 您提 提出 关于 建议 提案 答复 收悉 如下 现答 现将 一是 二是 三是 四是 五是 六是
    以及 进行 有关 相关 开展 目前 同时 通过 实现 积极 进一步 下一步 工作 情况 方面 问题 主要 其中 已经
    没有 可以 需要 因此 但是 并且 或者 如果 由于 为了 对于 按照 根据 这些 那些 这个 那个 一个 一些
    不断 切实 认真 充分 全面 持续 加大 加强 推进 推动 做好 更加 继续 不仅 而且 已于 截至 截止 今年
    去年 明年 感谢 欢迎 谢谢 委员 代表 单位 联系 电话 类别 办复 抄送 附件
    """.split()
)

log = logging.getLogger(__name__)
_jieba_lock = threading.Lock()
_jieba = None


def _segmenter():
    """jieba, initialised once per process with its logging silenced (it prints to stderr)."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def tokens(text: str) -> list[str]:
    """The words of ``text`` that can tell topics apart: Chinese words of two characters or more and
    Latin words, stop words removed."""
    jieba = _segmenter()
    return [
        w
        for w in (t.strip() for t in jieba.lcut(text or "", HMM=False))
        if _WORD.match(w) and w not in STOPWORDS
    ]


def term_counts(*, title: str, texts: list[str]) -> Counter:
    counts = Counter(tokens(title))
    for term in list(counts):
        counts[term] *= TITLE_WEIGHT
    for text in texts:
        counts.update(tokens(text))
    return counts


# --- Writing documents (called by the services, inside their transaction) ------------------------------


def document_write(proposal) -> None:
    """Indexes ``proposal`` as it is now: its text and the bodies of its sent replies."""
    from tongban.proposals.constants import ReplyStatus
    from tongban.proposals.models import SearchDocument

    bodies = list(
        proposal.replies.filter(status=ReplyStatus.SENT).order_by("id").values_list("body", flat=True)
    )
    counts = term_counts(title=proposal.title, texts=[proposal.text, *bodies])
    SearchDocument.objects.filter(proposal=proposal, superseded=False).update(superseded=True)
    SearchDocument.objects.create(proposal=proposal, terms=dict(counts), length=sum(counts.values()))


def reindex_all(*, batch: int = 500) -> int:
    """Rewrites every proposal's document (after a change of the stop words or the dictionary) and
    removes the old rows; returns how many proposals were indexed."""
    from django.db import transaction

    from tongban.proposals.constants import ReplyStatus
    from tongban.proposals.models import Proposal, Reply, SearchDocument

    n = 0
    with transaction.atomic():
        SearchDocument.objects.all().delete()
        ids = list(Proposal.objects.order_by("id").values_list("id", flat=True))
        for i in range(0, len(ids), batch):
            chunk = ids[i : i + batch]
            bodies: dict[int, list[str]] = {}
            for pid, body in (
                Reply.objects.filter(proposal_id__in=chunk, status=ReplyStatus.SENT)
                .order_by("id")
                .values_list("proposal_id", "body")
            ):
                bodies.setdefault(pid, []).append(body)
            rows = []
            for pid, title, text in Proposal.objects.filter(id__in=chunk).values_list("id", "title", "text"):
                counts = term_counts(title=title, texts=[text, *bodies.get(pid, [])])
                rows.append(SearchDocument(proposal_id=pid, terms=dict(counts), length=sum(counts.values())))
            SearchDocument.objects.bulk_create(rows, batch_size=500)
            n += len(rows)
    index_reset()
    return n


def compact() -> int:
    """Deletes superseded rows (every process has read past them or will rebuild); returns how many."""
    from tongban.proposals.models import SearchDocument

    return SearchDocument.objects.filter(superseded=True).delete()[0]


# --- The in-process index -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    proposal_id: int
    score: float


class _Index:
    """Postings per term: the slots of the documents holding it, their term counts and their BM25
    term weights ``tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl))``, precomputed with the average length
    of the time (recomputed when it drifts by more than :data:`AVGDL_DRIFT`)."""

    def __init__(self) -> None:
        self.last_id = 0
        self.last_created = None
        self.proposal_of: list[int] = []  # slot → proposal id
        self.lengths = array("I")
        self.alive = bytearray()
        self.slot_of: dict[int, int] = {}
        self.postings: dict[str, tuple[array, array, array]] = {}
        self.total_length = 0
        self.alive_count = 0
        self.weight_avgdl = 0.0

    def avgdl(self) -> float:
        return self.total_length / self.alive_count if self.alive_count else 1.0

    def add(self, proposal_id: int, terms: dict, length: int) -> None:
        old = self.slot_of.get(proposal_id)
        if old is not None and self.alive[old]:
            self.alive[old] = 0
            self.total_length -= self.lengths[old]
            self.alive_count -= 1
        slot = len(self.proposal_of)
        self.proposal_of.append(proposal_id)
        self.lengths.append(length)
        self.alive.append(1)
        self.slot_of[proposal_id] = slot
        self.total_length += length
        self.alive_count += 1
        norm = K1 * (1 - B + B * length / (self.weight_avgdl or self.avgdl()))
        for term, tf in terms.items():
            entry = self.postings.get(term)
            if entry is None:
                entry = self.postings[term] = (array("I"), array("I"), array("f"))
            entry[0].append(slot)
            entry[1].append(tf)
            entry[2].append(tf * (K1 + 1) / (tf + norm))

    def refresh_weights(self) -> None:
        avgdl = self.avgdl()
        if self.weight_avgdl and abs(avgdl - self.weight_avgdl) <= AVGDL_DRIFT * avgdl:
            return
        norms = [K1 * (1 - B + B * dl / avgdl) for dl in self.lengths]
        for term, (slots, tfs, _weights) in self.postings.items():
            self.postings[term] = (
                slots,
                tfs,
                array("f", (tf * (K1 + 1) / (tf + norms[s]) for s, tf in zip(slots, tfs, strict=True))),
            )
        self.weight_avgdl = avgdl


_index = _Index()
_index_lock = threading.Lock()


def index_reset() -> None:
    """Forgets this process's index; the next search rebuilds it."""
    global _index
    with _index_lock:
        _index = _Index()


def _catch_up() -> _Index:
    """This process's index with every row written so far (see the module docstring)."""
    global _index
    from tongban.proposals.models import SearchDocument

    with _index_lock:
        idx = _index
        qs = SearchDocument.objects.order_by("id").values_list(
            "id", "created_at", "proposal_id", "terms", "length"
        )
        if idx.last_id:
            rows = qs.filter(id__gte=idx.last_id)
            first = True
            stale = False
            new_rows = []
            for row in rows.iterator(chunk_size=2000):
                if first:
                    first = False
                    if row[0] != idx.last_id or row[1] != idx.last_created:
                        stale = True
                        break
                    continue
                new_rows.append(row)
            if first:
                stale = True  # the last row this process saw is gone
            if not stale:
                for row_id, created, proposal_id, terms, length in new_rows:
                    idx.add(proposal_id, terms, length)
                    idx.last_id, idx.last_created = row_id, created
                idx.refresh_weights()
                return idx
            log.info("similar-case index: database changed underneath, rebuilding")
        idx = _Index()
        for row_id, created, proposal_id, terms, length in qs.filter(superseded=False).iterator(
            chunk_size=2000
        ):
            idx.add(proposal_id, terms, length)
            idx.last_id, idx.last_created = row_id, created
        # Rows superseded while we read are replaced by later rows, which the next catch-up reads.
        idx.refresh_weights()
        _index = idx
        return idx


def search(text: str, *, k: int = 5, exclude: int | None = None, title: str = "") -> list[Hit]:
    """The ``k`` proposals most similar to ``title`` and ``text``, best first (BM25 score)."""
    query = term_counts(title=title, texts=[text]) if title else Counter(tokens(text))
    idx = _catch_up()
    if not query or not idx.alive_count:
        return []
    n = idx.alive_count
    weighted = []
    for term, qtf in query.items():
        entry = idx.postings.get(term)
        if entry is None:
            continue
        df = len(entry[0])
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        weighted.append((qtf * idf, idf, df, entry))
    chosen = heapq.nlargest(MAX_QUERY_TERMS, weighted, key=lambda w: w[0])
    telling = [w for w in chosen if w[2] <= COMMON_SHARE * n]
    if len(telling) < MIN_QUERY_TERMS:  # a short query: its most telling common terms fill it up
        telling += [w for w in chosen if w[2] > COMMON_SHARE * n][: MIN_QUERY_TERMS - len(telling)]
    chosen = telling
    acc: dict[int, float] = {}
    get = acc.get
    for qweight, _idf, _df, (slots, _tfs, weights) in chosen:
        c = qweight  # = query tf × idf
        for slot, w in zip(slots, weights, strict=True):
            acc[slot] = get(slot, 0.0) + c * w
    alive, proposal_of = idx.alive, idx.proposal_of
    best = heapq.nlargest(
        k + 1,
        ((score, slot) for slot, score in acc.items() if alive[slot] and proposal_of[slot] != exclude),
    )
    return [Hit(proposal_id=proposal_of[slot], score=round(score, 4)) for score, slot in best[:k]]
