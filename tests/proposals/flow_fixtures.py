"""A district's proposal handling for the tests: 瑶海区 rules, the CPPCC proposal office, a lead unit
(区发改委, with its 发文字号 prefix), a co-handling unit, their handler and signer, a supervisor.

Import the fixtures into a test module with ``from tests.proposals.flow_fixtures import *``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from tests import factories as f
from tongban.proposals import services
from tongban.proposals.constants import ProposalKind
from tongban.regions.models import Organisation, Region

# What ``from tests.proposals.flow_fixtures import *`` brings into a test module: the fixtures.
__all__ = ["_fresh_process_caches", "_media", "world"]

DATA = Path(__file__).resolve().parent / "data"

PROPOSAL_TEXT = (
    "瑶海区作为合肥东部新中心，应主动融入长三角一体化发展。建议加快政务服务“一网通办”综合服务专窗建设，"
    "推动长三角跨省通办事项扩容；深化与沪苏浙产业园区合作，共建G60科创走廊物联网产业合作示范园；"
    "加强人才交流，引进长三角创新资源。"
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """The search index and the loaded holiday schedules belong to a database each test rolls back."""
    from tongban.core import workdays
    from tongban.proposals import similar

    similar.index_reset()
    workdays.invalidate_cache()
    yield
    similar.index_reset()
    workdays.invalidate_cache()


@pytest.fixture
def world(db):
    province, _ = Region.objects.get_or_create(
        code="340000", defaults={"name": "安徽省", "level": "province"}
    )
    city, _ = Region.objects.get_or_create(
        code="340100", defaults={"name": "合肥市", "level": "city", "parent": province}
    )
    district, _ = Region.objects.get_or_create(
        code="340102", defaults={"name": "瑶海区", "level": "district", "parent": city}
    )

    def org(name: str) -> Organisation:
        return Organisation.objects.create(
            name=name, uscc=f.uscc_code("11340102"), kind="unit", region=district
        )

    office_org = org("瑶海区政协提案委员会")
    lead = org("瑶海区发展和改革委员会")
    lead.phone = "64495522"
    lead.save()
    co = org("瑶海区经济和信息化局")
    other = org("瑶海区教育体育局")
    w = {
        "district": district,
        "office_org": office_org,
        "lead": lead,
        "co": co,
        "other": other,
        "office": f.staff(office_org, roles=("proposal_office",)),
        "handler": f.staff(lead, roles=("proposal_handler",)),
        "signer": f.staff(lead, roles=("proposal_signer",)),
        "co_handler": f.staff(co, roles=("proposal_handler",)),
        "other_handler": f.staff(other, roles=("proposal_handler",)),
        "supervisor": f.staff(office_org, roles=("supervisor",)),
    }
    w["jurisdiction"] = services.jurisdiction_configure(
        actor=w["office"],
        code="yaohai",
        name="瑶海区人大建议和政协提案办理规则",
        region_code="340102",
        deadline_months={"npc_suggestion": 3, "cppcc_proposal": 3},
    )
    services.unit_profile_set(
        actor=w["office"],
        organisation_id=lead.pk,
        issuer_name="合肥市瑶海区发展和改革委员会",
        number_prefix="瑶发改案",
        contact_phone="64495522",
    )
    return w


_serial = iter(range(1000, 100000))


def register(w, **overrides):
    data = {
        "actor": w["office"],
        "kind": ProposalKind.CPPCC_PROPOSAL,
        "session": "区政协五届一次会议",
        "serial": next(_serial),
        "title": "关于瑶海区融入长三角一体化的提案",
        "text": PROPOSAL_TEXT,
        "proposer_name": "朱克海",
        "proposer_phone": "13955112233",
        "proposer_address": "合肥市瑶海区长江东路1号明光小区3栋2单元502室",
        "proposer_unit": "瑶海区某企业",
        "co_signers": [services.CoSignerIn(name="王某某", phone="13800001111")],
        "jurisdiction": "yaohai",
    }
    data.update(overrides)
    return services.proposal_register(**data)


def hand_over(w, proposal, *, on: dt.date | None = None, co=True):
    return services.proposal_hand_over(
        actor=w["office"],
        proposal_id=proposal.public_id,
        lead_unit_id=w["lead"].pk,
        co_unit_ids=[w["co"].pk] if co else [],
        on=on or timezone.localdate(),
    )


REPLY_BODY = (
    "您提出的“关于瑶海区融入长三角一体化的提案”收悉，现答复如下：\n"
    "一、推进长三角一体化发展工作情况\n"
    "（一）加快完善市场机制，优化营商环境\n"
    "瑶海区开通长三角地区政务服务“一网通办”综合服务专窗，实现41个政务服务事项“跨省通办”。\n"
    "二、下一步工作计划\n"
    "1. 筹建长三角物联网产业联盟。\n"
    "（1）加强与G60科创走廊城市合作。\n"
)


def draft(w, proposal, *, reply_class="A", body=REPLY_BODY, promise_due=None):
    return services.reply_save_draft(
        actor=w["handler"],
        proposal_id=proposal.public_id,
        body=body,
        reply_class=reply_class,
        copy_to=["区政府办", "区政协提案委"],
        promise_due=promise_due,
    )


def to_signed_off(w, proposal, **draft_kw):
    draft(w, proposal, **draft_kw)
    services.reply_submit_for_review(actor=w["handler"], proposal_id=proposal.public_id)
    services.reply_review(actor=w["signer"], proposal_id=proposal.public_id, approve=True)
    return services.reply_sign_off(actor=w["signer"], proposal_id=proposal.public_id)


def to_replied(w, proposal, *, reply_class="A", promise_due=None):
    hand_over(w, proposal)
    services.assignment_accept(actor=w["handler"], proposal_id=proposal.public_id)
    to_signed_off(w, proposal, reply_class=reply_class, promise_due=promise_due)
    return services.reply_send(actor=w["handler"], proposal_id=proposal.public_id)
