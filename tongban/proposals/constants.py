"""Kinds, statuses, actions and defaults of proposal handling (建议提案办理)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ProposalKind(models.TextChoices):
    NPC_SUGGESTION = "npc_suggestion", _("人大代表建议")
    CPPCC_PROPOSAL = "cppcc_proposal", _("政协提案")


# How the proposer is addressed in a reply (主送): "朱克海委员：", "王景峰代表：".
ADDRESS_SUFFIX = {ProposalKind.NPC_SUGGESTION: "代表", ProposalKind.CPPCC_PROPOSAL: "委员"}


class ProposalStatus(models.TextChoices):
    REGISTERED = "registered", _("已登记")  # waiting to be handed over (again, after a return)
    HANDED_OVER = "handed_over", _("已交办")  # the lead unit has not accepted yet
    HANDLING = "handling", _("办理中")  # accepted; co-handlers' opinions, the draft, review, sign-off
    REPLIED = "replied", _("已答复")  # the reply was sent; waiting for the proposer's feedback
    REHANDLING = "rehandling", _("重新办理")  # 不满意: a second reply with a new deadline
    FOLLOW_UP = "follow_up", _("跟踪落实")  # B class: until the promise is met and a follow-up reply sent
    CLOSED = "closed", _("已办结")


OPEN_STATUSES = frozenset({ProposalStatus.HANDED_OVER, ProposalStatus.HANDLING, ProposalStatus.REHANDLING})
# Statuses in which the lead unit drafts a reply (the first, the second, or the follow-up).
DRAFTING_STATUSES = frozenset({ProposalStatus.HANDLING, ProposalStatus.REHANDLING, ProposalStatus.FOLLOW_UP})


class UnitRole(models.TextChoices):
    LEAD = "lead", _("主办单位")
    CO = "co", _("协办单位")


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", _("待签收")
    ACCEPTED = "accepted", _("已签收")
    RETURN_REQUESTED = "return_requested", _("申请退回")
    RETURNED = "returned", _("已退回")  # the office agreed; the unit no longer handles it


class ReplyPurpose(models.TextChoices):
    FIRST = "first", _("答复")
    SECOND = "second", _("再次答复")  # after 不满意
    FOLLOW_UP = "follow_up", _("跟踪答复")  # B class, once the promise is met


class ReplyStatus(models.TextChoices):
    DRAFT = "draft", _("拟稿")
    IN_REVIEW = "in_review", _("待核稿")
    AWAITING_SIGN_OFF = "awaiting_sign_off", _("待签发")
    SIGNED_OFF = "signed_off", _("已签发")
    SENT = "sent", _("已送达")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY_SATISFIED = "basically_satisfied", pgettext_lazy("proposal feedback", "基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REFUSED = "refused", _("不予批准")


class PublicationStatus(models.TextChoices):
    PENDING_REVIEW = "pending_review", _("待审核")
    APPROVED = "approved", _("已审核")
    WITHHELD = "withheld", _("不予公开")


class Timeliness(models.TextChoices):
    ON_TIME = "on_time", _("按期答复")
    LATE = "late", _("逾期答复")
    OPEN = "open", _("办理中")
    OVERDUE = "overdue", _("已超期未答复")


class ProposalAction(models.TextChoices):
    """Every step is one of these; each becomes a ProposalEvent row (who, when, what)."""

    REGISTER = "register", _("登记")
    HAND_OVER = "hand_over", _("交办")
    ACCEPT = "accept", _("签收")
    DEEMED_ACCEPTED = "deemed_accepted", _("逾期视为签收")
    REQUEST_RETURN = "request_return", _("申请退回")
    APPROVE_RETURN = "approve_return", _("同意退回")
    REFUSE_RETURN = "refuse_return", _("不同意退回")
    CO_OPINION = "co_opinion", _("提交协办意见")
    DRAFT = "draft", _("保存答复稿")
    SUBMIT_REVIEW = "submit_review", _("提交核稿")
    REVIEW_PASS = "review_pass", _("核稿通过")
    REVIEW_RETURN = "review_return", _("核稿退回修改")
    SIGN_OFF = "sign_off", pgettext_lazy("proposal reply", "签发")
    SIGN_OFF_RETURN = "sign_off_return", _("签发退回修改")
    SEND = "send", _("送达答复")
    FEEDBACK = "feedback", _("征询意见反馈")
    REOPEN = "reopen", _("重新办理")
    FOLLOW_UP = "follow_up", _("转入跟踪落实")
    CLOSE = "close", _("办结")
    REQUEST_EXTENSION = "request_extension", _("申请延期")
    APPROVE_EXTENSION = "approve_extension", _("批准延期")
    REFUSE_EXTENSION = "refuse_extension", _("不予延期")
    REMIND = "remind", _("到期提醒")
    OVERDUE = "overdue", _("标记超期")
    DEADLINE_CONFIRMED = "deadline_confirmed", _("期限确定")
    PUBLICATION_APPROVE = "publication_approve", _("审核公开")
    PUBLICATION_WITHHOLD = "publication_withhold", _("不予公开")


# --- Defaults of a jurisdiction's rules (each configurable per jurisdiction) -------------------------

DEFAULT_DEADLINE_MONTHS = {ProposalKind.NPC_SUGGESTION.value: 3, ProposalKind.CPPCC_PROPOSAL.value: 3}
DEFAULT_TRANSFER_WINDOW_WORKDAYS = 5
DEFAULT_EXTENSION_MAX_MONTHS = 6  # counted from the hand-over, extensions included
DEFAULT_REMINDER_WORKDAYS = [10, 3]
DEFAULT_PUBLICATION_DELAY_DAYS = 30
DEFAULT_REHANDLE_MONTHS = 1
DEFAULT_MAX_REHANDLINGS = 1

# The reply classes (办复类别). ``follow_up``: a class whose promise is tracked until a follow-up reply.
DEFAULT_CLASS_TABLE = [
    {"code": "A", "label": "A类", "description": "所提问题已经解决或采纳", "follow_up": False},
    {"code": "B", "label": "B类", "description": "所提问题正在解决或列入计划逐步解决", "follow_up": True},
    {
        "code": "C",
        "label": "C类",
        "description": "所提问题因条件限制暂时不能解决，已作解释说明",
        "follow_up": False,
    },
    {"code": "D", "label": "D类", "description": "所提问题留作参考", "follow_up": False},
]
