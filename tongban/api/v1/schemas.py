from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema


class Problem(Schema):
    type: str
    title: str
    status: int
    code: str
    errors: list[dict[str, str]] | None = None
    details: dict[str, Any] | None = None


class TokenIn(Schema):
    username: str
    password: str
    name: str = Field("api", description="令牌名称，便于日后识别和吊销")


class TokenOut(Schema):
    token: str = Field(description="只显示这一次；服务端只保存其摘要")


class WorkdaysOut(Schema):
    start: date
    days: int
    date: date
    provisional: bool = Field(description="落在尚未发布节假日安排的年份时为 true")


class MaterialOut(Schema):
    code: str
    name: str
    required: bool
    form: str
    copies: int
    note: str
    certificate_type: str


class ItemSummary(Schema):
    implementation_code: str
    basic_code: str
    name: str
    item_type: str
    city_code: str
    region_code: str
    authority: str
    promised_limit_days: int
    modes: list[str]


class ItemDetail(ItemSummary):
    version: int
    status: str
    authority_uscc: str
    legal_basis: str
    legal_limit_days: int
    fee: str
    conditions: str
    process: list[Any]
    location: str
    office_hours: str
    phone: str
    subject_types: list[str]
    form_schema: dict[str, Any]
    materials: list[MaterialOut]


class Page(Schema):
    page: int
    page_size: int
    has_next: bool


class ItemPage(Page):
    items: list[ItemSummary]


class MaterialUpload(Schema):
    material: str = Field(description="材料编码，见事项的 materials")
    filename: str = ""
    content_base64: str = Field(description="文件内容（Base64）；类型按内容判断：PDF、JPEG 或 PNG")


class CertificateChoiceIn(Schema):
    material: str = Field(description="材料编码（该材料的 certificate_type 须与证照类型一致）")
    identifier: str = Field(description="申请人本人的电子证照标识")
    consent: bool = Field(description="申请人同意向审批部门提供该证照中该事项需要的信息")


class CaseSubmitIn(Schema):
    item: str = Field(description="事项实施编码")
    form: dict[str, Any] = Field(default_factory=dict, description="按事项 form_schema 填写的申请表")
    materials: list[MaterialUpload] = Field(default_factory=list)
    certificates: list[CertificateChoiceIn] = Field(
        default_factory=list, description="以电子证照代替的材料（免提交）"
    )
    mode: str | None = None
    partner_city: str = Field("", description="多地联办（mode=multi_site）时另一办理地城市的区划代码")
    client_token: str = Field("", max_length=64, description="重复提交时返回同一办件")


class ApplicantIn(Schema):
    name: str
    id_number: str
    phone: str = ""


class IntakeIn(CaseSubmitIn):
    applicant: ApplicantIn
    identity_checked: bool = Field(description="窗口人员已核验身份证件原件")


class NoteIn(Schema):
    note: str = ""


class ReasonIn(Schema):
    reason: str = ""


class DecisionIn(Schema):
    approve: bool
    reason: str = ""


class CorrectionItemIn(Schema):
    material: str = ""
    name: str = ""
    reason: str


class CorrectionIn(Schema):
    items: list[CorrectionItemIn]
    note: str = ""


class ResubmitIn(Schema):
    materials: list[MaterialUpload] = Field(default_factory=list)
    form: dict[str, Any] | None = None
    note: str = ""


class CaseSummary(Schema):
    number: str
    item: str
    item_name: str
    status: str
    status_label: str
    applicant_name: str
    receiving_node: str
    handling_node: str
    mode: str
    channel: str
    submitted_at: datetime
    due_date: date | None
    due_provisional: bool
    due_mark: str


class CasePage(Page):
    items: list[CaseSummary]


class EventOut(Schema):
    action: str
    action_label: str
    from_status: str
    to_status: str
    actor: str
    reason: str
    at: datetime


class CaseMaterialOut(Schema):
    id: int
    material: str
    name: str
    content_type: str
    size: int
    sha256: str
    round: int


class NoticeOut(Schema):
    round: int
    items: list[dict[str, str]]
    note: str
    issued_at: datetime
    resolved_at: datetime | None


class CertificateUseOut(Schema):
    material: str
    material_name: str
    identifier: str
    version: int
    type_name: str
    valid: bool = Field(description="本节点核验的结果")
    verdict_code: str
    verdict_reason: str
    verified_at: datetime


class RatingIn(Schema):
    score: int = Field(description="1 非常不满意 … 5 非常满意")
    reasons: list[str] = Field(
        default_factory=list,
        description="理由代码：好评 told_once easy fast friendly few_materials；差评 not_told_once guide_wrong "
        "many_trips slow unfriendly materials_repeated fees_unclear；other（须写意见）。差评至少一项。",
    )
    comment: str = ""


class RatingOut(Schema):
    number: str
    score: int
    score_label: str
    reasons: list[str]
    comment: str
    rated_at: datetime


class CaseDetailOut(CaseSummary):
    handling_org: str
    applicant_id_masked: str
    form: dict[str, Any]
    decision_reason: str
    accepted_at: datetime | None
    decided_at: datetime | None
    events: list[EventOut]
    materials: list[CaseMaterialOut]
    correction_notices: list[NoticeOut]
    certificate_uses: list[CertificateUseOut] = Field(
        default_factory=list, description="以电子证照代替的材料（免提交）及本节点核验结果"
    )
