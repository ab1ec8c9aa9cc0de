"""The proposal-handling demo (``proposals_demo_prepare``): seeds 000 and 003 registered as the real
proposals they answer, handed over, answered with their real replies (signed off, sent, with the
proposer's feedback), about twenty synthetic past proposals with replies for the similar-case search,
one proposal handed over yesterday (its deadline, in 2027, is provisional), and the office, handler,
signer and supervisor accounts. Idempotent: a second run changes nothing.

The dates of the real replies are theirs (成文日期 2022-08-12 and 2024-06-11); the hand-over dates and
the synthetic proposals are made up and say so in their text.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.db import transaction
from django.utils import timezone

from tongban.demo import DemoAccount, _passwords
from tongban.proposals import services
from tongban.proposals.constants import ProposalKind, ProposalStatus
from tongban.proposals.models import Proposal, Publication
from tongban.proposals.seeds import SeedReply, seed_000, seed_003

PASSWORD_NAMES = ["proposal_office", "proposal_handler", "proposal_signer", "proposal_supervisor"]

# (title, topic sentence, reply paragraph, class): synthetic past proposals for the similar-case search.
TOPICS = [
    (
        "关于扩大长三角政务服务跨省通办事项的建议",
        "群众异地办事仍需往返奔波，建议扩大跨省通办事项范围，推广综合服务专窗。",
        "已新增跨省通办事项32项，综合服务专窗覆盖全部街道。",
        "A",
    ),
    (
        "关于推进长三角异地就医直接结算的提案",
        "异地就医备案手续繁琐，建议推进门诊费用跨省直接结算。",
        "门诊费用跨省直接结算已覆盖长三角41座城市。",
        "A",
    ),
    (
        "关于加快长三角电子证照互认共享的建议",
        "电子证照跨地区使用不畅，建议推动高频电子证照互认。",
        "社会保障卡、营业执照等24类电子证照已实现互认共享。",
        "A",
    ),
    (
        "关于深化G60科创走廊产业合作的提案",
        "建议依托G60科创走廊共建产业合作示范园，引进龙头企业。",
        "物联网产业合作示范园已签约项目12个，正筹建产业联盟。",
        "B",
    ),
    (
        "关于推动长三角交通一体化建设的建议",
        "建议加快城际铁路建设，推动公交一卡通跨城互通。",
        "城际铁路项目已纳入规划，公交一卡通将于明年互通。",
        "B",
    ),
    (
        "关于加强长三角生态环境联防联治的提案",
        "跨界河流水环境治理责任不清，建议建立联保共治机制。",
        "已与上下游城市签订跨界水环境联保协议。",
        "A",
    ),
    (
        "关于推进长三角人才互认共享的建议",
        "建议推动职称资格互认，建设人才公寓，吸引沪苏浙人才。",
        "职称互认清单已发布，人才公寓一期投入使用。",
        "A",
    ),
    (
        "关于推进长三角教育合作交流的提案",
        "建议与上海优质学校开展教师互派和结对办学。",
        "已与上海杨浦区签署教育交流合作协议，开展教师互派。",
        "A",
    ),
    (
        "关于打造长三角文旅融合发展品牌的建议",
        "建议联合推出长三角旅游年卡，共建精品旅游线路。",
        "长三角旅游年卡已覆盖景区60余家，因条件所限部分线路暂缓。",
        "C",
    ),
    (
        "关于推动长三角政务数据共享的提案",
        "部门数据壁垒影响一网通办，建议推动政务数据互联互通。",
        "已接入长三角数据共享交换平台，共享数据目录200余项。",
        "B",
    ),
    (
        "关于推进长三角养老服务一体化的建议",
        "异地养老补贴难以享受，建议推进养老服务补贴异地结算。",
        "养老服务补贴异地结算试点正在开展。",
        "B",
    ),
    (
        "关于实现长三角住房公积金异地互认的提案",
        "建议推动住房公积金异地贷款互认和转移接续网上办理。",
        "公积金异地转移接续已实现全程网办。",
        "A",
    ),
    (
        "关于优化营商环境推进企业开办一件事的建议",
        "企业开办环节多，建议推进营业执照、印章、税务一件事办理。",
        "企业开办一件事已实现一个工作日内办结。",
        "A",
    ),
    (
        "关于建设长三角绿色农产品供应基地的提案",
        "建议建设面向沪苏浙的绿色农产品生产加工供应基地。",
        "已认定长三角绿色农产品生产加工供应基地3个。",
        "B",
    ),
    (
        "关于加强长三角应急管理联动的建议",
        "建议建立跨区域突发事件应急联动和物资共享机制。",
        "跨区域应急联动机制因涉及多方职责，暂作参考研究。",
        "D",
    ),
    (
        "关于推进长三角港口物流协同发展的提案",
        "建议加强内河港口与上海港的航线合作，降低物流成本。",
        "已开通至上海港的集装箱直达航线。",
        "A",
    ),
    (
        "关于推动社会保障卡居民服务一卡通的建议",
        "建议推动社会保障卡在交通出行、文化旅游等领域一卡通用。",
        "社会保障卡已在公交、景区等场景实现一卡通用。",
        "A",
    ),
    (
        "关于加快长三角科技创新券通用通兑的提案",
        "建议推动科技创新券在长三角范围通用通兑，支持中小企业研发。",
        "科技创新券通用通兑已纳入年度计划逐步推进。",
        "B",
    ),
    (
        "关于推进长三角医疗资源共享的建议",
        "建议与上海三甲医院建立专科医联体，推动检查结果互认。",
        "市人民医院已与复旦大学附属肿瘤医院签署专科医联体协议。",
        "A",
    ),
    (
        "关于推动老工业区转型发展的提案",
        "建议借鉴沪苏浙经验推进老工业区转型，发展时尚服装产业。",
        "老工业区转型发展试验区项目已纳入长三角规划实施方案。",
        "B",
    ),
]


def _uscc(name: str, region_code: str) -> str:
    from stdnum.cn import uscc

    digits = str(int(hashlib.sha256(name.encode()).hexdigest(), 16))[:9]
    body = f"11{region_code}{digits}"
    return body + uscc.calc_check_digit(body)


def _regions():
    from tongban.regions.models import Region

    province, _ = Region.objects.get_or_create(
        code="340000", defaults={"name": "安徽省", "level": "province"}
    )
    hefei, _ = Region.objects.get_or_create(
        code="340100", defaults={"name": "合肥市", "level": "city", "parent": province}
    )
    Region.objects.get_or_create(
        code="340102", defaults={"name": "瑶海区", "level": "district", "parent": hefei}
    )
    Region.objects.get_or_create(
        code="341000", defaults={"name": "黄山市", "level": "city", "parent": province}
    )


def _unit(name: str, region_code: str, phone: str = ""):
    from tongban.regions.models import Organisation

    org = Organisation.objects.filter(name=name).first()
    if org is None:
        org = Organisation.objects.create(
            name=name, uscc=_uscc(name, region_code), kind="unit", region_id=region_code, phone=phone
        )
    return org


def _user(username: str, password: str, real_name: str, org, roles: list[str]):
    from tongban.accounts import services as accounts
    from tongban.accounts.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        user = accounts.staff_create(
            username=username, password=password, real_name=real_name, organisation=org, roles=roles
        )
    return user


def _answer(
    *,
    proposal: Proposal,
    office,
    handler,
    signer,
    body: str,
    reply_class: str,
    signed_on: dt.date,
    copy_to=(),
    contact_unit: str = "",
    contact_phone: str = "",
    promise_due: dt.date | None = None,
    satisfaction: str = "satisfied",
    feedback_on: dt.date | None = None,
):
    pid = proposal.public_id
    services.reply_save_draft(
        actor=handler,
        proposal_id=pid,
        body=body,
        reply_class=reply_class,
        copy_to=list(copy_to),
        contact_unit=contact_unit,
        contact_phone=contact_phone,
        promise_due=promise_due,
    )
    services.reply_submit_for_review(actor=handler, proposal_id=pid)
    services.reply_review(actor=signer, proposal_id=pid, approve=True)
    services.reply_sign_off(actor=signer, proposal_id=pid, signed_on=signed_on)
    reply = services.reply_send(actor=handler, proposal_id=pid, sent_on=signed_on)
    services.feedback_record(
        actor=office,
        proposal_id=pid,
        satisfaction=satisfaction,
        received_on=feedback_on or signed_on + dt.timedelta(days=14),
        comments="感谢承办单位认真办理。" if satisfaction != "unsatisfied" else "",
    )
    pub = Publication.objects.get(reply=reply)
    services.publication_decide(actor=office, publication_id=pub.pk, approve=True)
    return reply


def _seed(seed: SeedReply, *, office, handler, signer, co=None) -> Proposal | None:
    j = "yaohai" if seed.region_code == "340102" else "huangshan"
    if Proposal.objects.filter(
        jurisdiction__code=j, kind=seed.kind, session=seed.session, serial=seed.serial
    ).exists():
        return None
    p = services.proposal_register(
        actor=office,
        kind=seed.kind,
        session=seed.session,
        serial=seed.serial,
        title=seed.proposal_title,
        text=f"{seed.proposal_title}。（演示：原件正文未收录，以下为答复所涉内容摘要）\n" + seed.body[:400],
        proposer_name=seed.proposer,
        jurisdiction=j,
    )
    services.proposal_hand_over(
        actor=office,
        proposal_id=p.public_id,
        lead_unit_id=handler.organisation_id,
        co_unit_ids=[co.pk] if co else [],
        on=seed.handed_over_on,
    )
    services.assignments_deem_accepted()
    if seed.doc_seq:
        services.document_sequence_start(
            actor=office,
            organisation_id=handler.organisation_id,
            year=seed.signed_on.year,
            last_used=seed.doc_seq - 1,
        )
    _answer(
        proposal=p,
        office=office,
        handler=handler,
        signer=signer,
        body=seed.body,
        reply_class=seed.reply_class,
        signed_on=seed.signed_on,
        copy_to=seed.copy_to,
        contact_unit=seed.contact_unit,
        contact_phone=seed.contact_phone,
        promise_due=dt.date(seed.signed_on.year, 12, 31) if seed.reply_class == "B" else None,
    )
    return p


def proposals_demo_prepare() -> list[DemoAccount]:
    """Creates (once) everything above; returns the demo accounts with their passwords."""
    from django.conf import settings

    pw = _passwords(settings.VAR_DIR / "demo-accounts.json", PASSWORD_NAMES)
    with transaction.atomic():
        _regions()
        office_org = _unit("瑶海区政协提案委员会", "340102")
        yaohai_drc = _unit("瑶海区发展和改革委员会", "340102", phone="64495522")
        yaohai_eit = _unit("瑶海区经济和信息化局", "340102")
        huangshan_drc = _unit("黄山市发展和改革委员会", "341000", phone="2355364")
        office = _user("proposal_office", pw["proposal_office"], "吴交办", office_org, ["proposal_office"])
        handler = _user(
            "proposal_handler", pw["proposal_handler"], "孙承办", yaohai_drc, ["proposal_handler"]
        )
        signer = _user("proposal_signer", pw["proposal_signer"], "郑签发", yaohai_drc, ["proposal_signer"])
        _user("proposal_co", pw["proposal_handler"], "钱协办", yaohai_eit, ["proposal_handler"])
        _user("proposal_supervisor", pw["proposal_supervisor"], "冯督查", office_org, ["supervisor"])
        hs_handler = _user(
            "hs_handler", pw["proposal_handler"], "黄承办", huangshan_drc, ["proposal_handler"]
        )
        hs_signer = _user("hs_signer", pw["proposal_signer"], "汪峻", huangshan_drc, ["proposal_signer"])
        from tongban.proposals.models import Jurisdiction, UnitProfile

        if not Jurisdiction.objects.filter(code="yaohai").exists():
            services.jurisdiction_configure(
                actor=office,
                code="yaohai",
                name="瑶海区人大建议和政协提案办理规则",
                region_code="340102",
                deadline_months={"npc_suggestion": 3, "cppcc_proposal": 3},
            )
        if not Jurisdiction.objects.filter(code="huangshan").exists():
            services.jurisdiction_configure(
                actor=office,
                code="huangshan",
                name="黄山市人大建议和政协提案办理规则",
                region_code="341000",
                deadline_months={"npc_suggestion": 3, "cppcc_proposal": 5},
            )
        for org, issuer, prefix, phone in (
            (yaohai_drc, "合肥市瑶海区发展和改革委员会", "瑶发改案", "64495522"),
            (huangshan_drc, "黄山市发展和改革委员会", "黄发改建", "2355364"),
        ):
            if not UnitProfile.objects.filter(organisation=org).exists():
                services.unit_profile_set(
                    actor=office,
                    organisation_id=org.pk,
                    issuer_name=issuer,
                    number_prefix=prefix,
                    contact_phone=phone,
                )
        _seed(seed_000(), office=office, handler=handler, signer=signer, co=yaohai_eit)
        _seed(seed_003(), office=office, handler=hs_handler, signer=hs_signer)

        session = "区政协四届五次会议（演示数据）"
        for i, (title, ask, answer, klass) in enumerate(TOPICS, start=1):
            if Proposal.objects.filter(jurisdiction__code="yaohai", session=session, serial=i).exists():
                continue
            year = 2023 + i % 3
            p = services.proposal_register(
                actor=office,
                kind=ProposalKind.CPPCC_PROPOSAL if i % 2 else ProposalKind.NPC_SUGGESTION,
                session=session,
                serial=i,
                title=title,
                text=f"{ask}（演示数据，非真实提案。）",
                proposer_name=f"演示委员{i}",
                jurisdiction="yaohai",
            )
            services.proposal_hand_over(
                actor=office, proposal_id=p.public_id, lead_unit_id=yaohai_drc.pk, on=dt.date(year, 3, 15)
            )
            services.assignments_deem_accepted()
            late = i % 7 == 0
            signed_on = dt.date(year, 6 if not late else 7, 10)
            _answer(
                proposal=p,
                office=office,
                handler=handler,
                signer=signer,
                body=f"您提出的“{title}”收悉，现答复如下：\n一、办理情况\n{answer}\n二、下一步工作\n我们将{ask[:20]}等方面持续跟进。（演示数据）",
                reply_class=klass,
                signed_on=signed_on,
                promise_due=dt.date(year, 12, 31) if klass == "B" else None,
                satisfaction=["satisfied", "basically_satisfied", "satisfied", "unsatisfied"][i % 4],
            )
            p.refresh_from_db()
            if p.status == ProposalStatus.REHANDLING:  # 不满意: a second reply, then 基本满意
                _answer(
                    proposal=p,
                    office=office,
                    handler=handler,
                    signer=signer,
                    body=f"关于“{title}”，经重新研究办理，再次答复如下：\n{answer}已明确时间表。（演示数据）",
                    reply_class="A",
                    signed_on=signed_on + dt.timedelta(days=25),
                    satisfaction="basically_satisfied",
                )
                p.refresh_from_db()
            if p.status == ProposalStatus.FOLLOW_UP:  # B class: the promise met, a follow-up reply
                pid = p.public_id
                services.reply_save_draft(
                    actor=handler,
                    proposal_id=pid,
                    reply_class="A",
                    body=f"关于“{title}”答复中承诺的事项已经落实：{answer}（演示数据）",
                )
                services.reply_submit_for_review(actor=handler, proposal_id=pid)
                services.reply_review(actor=signer, proposal_id=pid, approve=True)
                services.reply_sign_off(actor=signer, proposal_id=pid, signed_on=dt.date(year, 12, 20))
                services.reply_send(actor=handler, proposal_id=pid, sent_on=dt.date(year, 12, 20))
        # One open proposal handed over yesterday: three months on, in a year whose holidays may not be known.
        open_session = "区政协五届三次会议（演示数据）"
        if not Proposal.objects.filter(jurisdiction__code="yaohai", session=open_session, serial=1).exists():
            p = services.proposal_register(
                actor=office,
                kind=ProposalKind.CPPCC_PROPOSAL,
                session=open_session,
                serial=1,
                title="关于推进长三角跨省通办综合服务专窗提质扩面的提案",
                text="建议进一步扩大长三角跨省通办事项范围，推动综合服务专窗向街道延伸，推广电子证照互认。（演示数据）",
                proposer_name="演示委员",
                proposer_phone="13955112233",
                jurisdiction="yaohai",
            )
            services.proposal_hand_over(
                actor=office,
                proposal_id=p.public_id,
                lead_unit_id=yaohai_drc.pk,
                co_unit_ids=[yaohai_eit.pk],
                on=timezone.localdate() - dt.timedelta(days=1),
            )
    return [
        DemoAccount(
            "proposal_office",
            "建议提案交办人员（瑶海区政协提案委）",
            pw["proposal_office"],
            "登记、交办、征询意见、公开审核",
        ),
        DemoAccount(
            "proposal_handler", "承办人员（瑶海区发改委）", pw["proposal_handler"], "签收、拟稿、类案参考"
        ),
        DemoAccount(
            "proposal_signer", "签发领导（瑶海区发改委）", pw["proposal_signer"], "核稿、签发、答复函"
        ),
        DemoAccount("proposal_co", "协办单位承办人员（瑶海区经信局）", pw["proposal_handler"], "协办意见"),
        DemoAccount("proposal_supervisor", "督查人员", pw["proposal_supervisor"], "统计与导出"),
    ]


__all__ = ["proposals_demo_prepare"]
