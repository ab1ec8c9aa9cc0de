"""Similar cases (jieba + BM25 over the index rows the services write), redaction before publication
with the reviewer's approval and the public page's delay, and the statistics with their Excel export
read back with openpyxl."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from stdnum.cn import ric

from tests import factories as f
from tests.proposals.flow_fixtures import *  # noqa: F403
from tests.proposals.flow_fixtures import hand_over, register, to_replied, to_signed_off
from tongban.core.errors import Conflict, Forbidden
from tongban.proposals import publication, selectors, services, similar, statistics
from tongban.proposals.constants import PublicationStatus
from tongban.proposals.models import Publication, SearchDocument

pytestmark = pytest.mark.django_db

TOPICS = {
    "medical": (
        "关于推进异地就医门诊费用直接结算的提案",
        "参保群众在沪苏浙就医需要备案，门诊费用不能直接结算，建议扩大异地就医直接结算定点医疗机构。",
    ),
    "transport": (
        "关于加快城际铁路和公交一卡通互通的建议",
        "建议加快合肥至上海城际铁路建设，推动地铁公交一卡通跨城互通，方便通勤。",
    ),
    "ecology": (
        "关于跨界河流水环境联防联治的提案",
        "巢湖流域跨界河流水质波动，建议与上下游城市建立水环境联保共治和生态补偿机制。",
    ),
    "talent": (
        "关于推进长三角人才职称互认的建议",
        "建议推动专业技术人才职称资格在长三角互认，建设人才公寓，吸引高层次人才。",
    ),
}


# --- similar cases ----------------------------------------------------------------------------------


def test_jieba_segments_chinese_and_drops_stop_words():
    words = similar.tokens("关于推进长三角异地就医直接结算的建议")
    assert "异地" in words and "就医" in words and "结算" in words
    assert "关于" not in words and "建议" not in words and "的" not in words


def test_similar_cases_find_the_same_topic_first(world):
    made = {key: register(world, title=t, text=x) for key, (t, x) in TOPICS.items()}
    new = register(
        world,
        title="关于扩大长三角异地就医结算范围的建议",
        text="群众跨省看病门诊费用还要先垫付再报销，建议推进异地就医门诊直接结算全覆盖。",
    )
    rows = selectors.similar_cases(world["handler"], new, k=3)
    assert rows[0]["proposal"] == made["medical"]
    assert new not in [r["proposal"] for r in rows]
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    hits = similar.search("城际铁路 公交一卡通")
    assert hits[0].proposal_id == made["transport"].pk


def test_a_sent_reply_is_searchable_in_a_process_that_already_built_its_index(world):
    p = register(world, title="关于老旧小区改造的建议", text="建议加快老旧小区加装电梯。")
    assert similar.search("物联网产业联盟") == []  # the index is built now, without that word
    hand_over(world, p)
    services.assignment_accept(actor=world["handler"], proposal_id=p.public_id)
    to_signed_off(world, p, body="已筹建物联网产业联盟，推进老旧小区智慧化改造。")
    services.reply_send(actor=world["handler"], proposal_id=p.public_id)
    hits = similar.search("物联网产业联盟")
    assert [h.proposal_id for h in hits] == [p.pk]  # caught up from the rows written since
    assert SearchDocument.objects.filter(proposal=p, superseded=False).count() == 1
    assert similar.compact() == 1
    assert similar.search("物联网产业联盟")[0].proposal_id == p.pk


def test_a_rebuilt_database_is_noticed_and_the_index_rebuilt(world):
    p = register(world, title="关于推进长三角港口物流的提案", text="建议开通集装箱直达航线。")
    assert similar.search("集装箱航线")[0].proposal_id == p.pk
    assert similar.reindex_all() == 1  # every row rewritten: the ids this process knew are gone
    assert similar.search("集装箱航线")[0].proposal_id == p.pk


# --- publication ------------------------------------------------------------------------------------


def test_redaction_removes_real_id_numbers_phones_and_dwelling_addresses_only():
    real_id = f.id_number("340102", "19900101", 123)
    assert ric.is_valid(real_id)
    text = (
        f"来访人身份证号{real_id}，合同编号123456789012345678不是身份证号。"
        "联系电话13955112233，办公室电话0551-64495522，电话：2355364。"
        "其家住瑶海区长江东路明光小区3栋2单元502室。区政务服务中心位于长江东路1号。"
        "2021年发放资金1807.74万元，引进人才35名。"
    )
    red = publication.redact(text, keep_phones=["64495522"])
    out = red.text
    assert real_id not in out and "123456789012345678" in out
    assert "13955112233" not in out and "2355364" not in out
    assert "0551-64495522" in out  # the unit's public phone stays
    assert "502室" not in out and "长江东路1号" in out
    assert "1807.74万元" in out and "35名" in out
    assert red.counts == {"id_number": 1, "phone": 2, "address": 1}
    for span in red.spans:
        assert out[span["start"] : span["end"]] == publication.PLACEHOLDERS[span["kind"]]


def test_a_sent_reply_waits_for_the_reviewer_and_the_delay_before_the_public_sees_it(world):
    p = register(world)
    body = (
        "您提出的提案收悉。经与朱克海委员电话13955112233沟通，并赴其住处长江东路1号明光小区3栋2单元502室调研，"
        "现答复如下：\n一、办理情况\n联系电话：64495522。"
    )
    hand_over(world, p)
    services.assignment_accept(actor=world["handler"], proposal_id=p.public_id)
    to_signed_off(world, p, body=body)
    reply = services.reply_send(actor=world["handler"], proposal_id=p.public_id)
    pub = Publication.objects.get(reply=reply)
    assert pub.status == PublicationStatus.PENDING_REVIEW
    assert "13955112233" not in pub.body and "502室" not in pub.body and "64495522" in pub.body
    assert pub.addressee == "朱**委员"
    assert pub.publish_after == timezone.localdate() + dt.timedelta(
        days=world["jurisdiction"].publication_delay_days
    )
    kinds = [k for _, k in publication.highlighted_segments(pub.body) if k]
    assert kinds == ["phone", "address"]
    # Not public before review.
    assert not selectors.publications_public(today=pub.publish_after).exists()
    with pytest.raises(Forbidden):
        services.publication_decide(actor=world["handler"], publication_id=pub.pk, approve=True)
    pub = services.publication_redact_more(actor=world["office"], publication_id=pub.pk, terms=["朱克海"])
    assert "朱克海" not in pub.body and pub.extra_terms_count == 1
    services.publication_decide(actor=world["office"], publication_id=pub.pk, approve=True)
    with pytest.raises(Conflict):
        services.publication_redact_more(actor=world["office"], publication_id=pub.pk, terms=["瑶海"])
    assert not selectors.publications_public(today=pub.publish_after - dt.timedelta(days=1)).exists()
    assert list(selectors.publications_public(today=pub.publish_after)) == [pub]


# --- statistics ---------------------------------------------------------------------------------------


def test_statistics_by_unit_kind_class_satisfaction_and_timeliness_and_the_excel_export(world):
    a = register(world, title="甲")
    to_replied(world, a, reply_class="A")
    services.feedback_record(actor=world["office"], proposal_id=a.public_id, satisfaction="satisfied")
    late = register(world, title="乙", kind="npc_suggestion")
    services.proposal_hand_over(
        actor=world["office"],
        proposal_id=late.public_id,
        lead_unit_id=world["lead"].pk,
        on=dt.date(2026, 7, 1),
    )
    services.assignments_deem_accepted()
    to_signed_off(world, late, reply_class="C")
    services.reply_send(actor=world["handler"], proposal_id=late.public_id)
    services.feedback_record(actor=world["office"], proposal_id=late.public_id, satisfaction="unsatisfied")
    overdue = register(world, title="丙")
    services.proposal_hand_over(
        actor=world["office"],
        proposal_id=overdue.public_id,
        lead_unit_id=world["co"].pk,
        on=dt.date(2026, 3, 2),
    )
    register(world, title="丁")  # not handed over yet

    with pytest.raises(Forbidden):
        statistics.report(world["handler"])
    rep = statistics.report(world["supervisor"])
    assert rep.overall.total == 4
    lead = next(t for t in rep.by_unit if t.label == world["lead"].name)
    assert lead.total == 2 and lead.timeliness["on_time"] == 1 and lead.timeliness["late"] == 1
    assert lead.on_time_rate == 50.0 and lead.classes == {"A": 1, "C": 1}
    assert lead.satisfaction == {"satisfied": 1, "unsatisfied": 1} and lead.satisfied_rate == 50.0
    co = next(t for t in rep.by_unit if t.label == world["co"].name)
    assert co.timeliness["overdue"] == 1
    kinds = {t.label: t.total for t in rep.by_kind}
    assert kinds == {"人大代表建议": 1, "政协提案": 3}

    wb = load_workbook(io.BytesIO(statistics.export_xlsx(rep)))
    assert wb.sheetnames == ["按承办单位", "按类型", "明细"]
    ws = wb["按承办单位"]
    header = [c.value for c in ws[1]]
    assert header[:2] == ["主办单位", "件数"] and "按期答复率（%）" in header and "A类" in header
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows[world["lead"].name]["件数"] == 2 and rows[world["lead"].name]["逾期答复"] == 1
    assert rows[world["lead"].name]["按期答复率（%）"] == 50.0
    assert rows["合计"]["件数"] == 4
    detail = list(wb["明细"].iter_rows(min_row=2, values_only=True))
    assert len(detail) == 4
    by_title = {r[2]: r for r in detail}
    assert by_title["乙"][11] == "逾期答复" and by_title["丙"][11] == "已超期未答复"
    assert by_title["甲"][9] == "A" and by_title["甲"][10] == "满意"
    assert isinstance(by_title["丙"][6], dt.datetime)  # a real date cell, not text
