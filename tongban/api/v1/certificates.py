"""API v1 for electronic certificates (电子证照): the holder's certificates and their credential or
PDF, verification at any node, issuing by an authority's own system, and status changes by the issuer."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status

from tongban.api.v1.auth import AUTH
from tongban.api.v1.schemas import Problem
from tongban.certificates import error_codes as codes
from tongban.certificates import selectors
from tongban.certificates import services as cert_services
from tongban.certificates.constants import StatusAction
from tongban.certificates.presenters import certificate_detail, certificate_summary
from tongban.core.errors import InvalidInput

router = Router(tags=["电子证照"])
PROBLEM = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}


class CertificateSummaryOut(Schema):
    identifier: str
    type_code: str
    type_name: str
    version: int
    number: str
    holder_name: str
    issuer_name: str
    issuer_node: str
    issue_date: date
    valid_until: date | None
    status: str = Field(description="valid / suspended / revoked / expired / unknown（状态待同步）")
    status_label: str


class CertificateDetailOut(CertificateSummaryOut):
    holder_id_type: str
    holder_id_masked: str
    issuer_code: str
    valid_from: date
    jurisdiction_code: str
    data: dict[str, Any]
    fields: list[dict[str, str]] = Field(description="照面信息：[{name, title, value}]，按证照类型的顺序")


class CertificateTypeOut(Schema):
    key: str
    code: str
    name: str
    defining_authority: str
    issuing_authority: str
    holder_kind: str
    field_schema: dict[str, Any]
    validity: dict[str, Any]


class VerifyIn(Schema):
    text: str | None = Field(None, description="凭证（SD-JWT）或二维码文本")
    pdf_base64: str | None = Field(None, description="节点生成的证照 PDF，base64 编码")


class VerdictOut(Schema):
    valid: bool
    reason: str
    identifier: str | None
    code: str = Field(description="VALID，或 CERT_ 开头的稳定错误码")
    version: int | None = None
    issuer: str | None = None


class IssueIn(Schema):
    type: str = Field(description="证照类型简称，如 yyzz、sbk")
    holder_name: str
    holder_id_type: str = Field(description="ric（居民身份证）或 uscc（统一社会信用代码）")
    holder_id: str
    data: dict[str, Any]
    valid_from: date | None = None
    number: str = ""


class StatusChangeIn(Schema):
    reason: str


@router.get("/types", response=list[CertificateTypeOut], summary="电子证照类型")
def certificate_types(request: HttpRequest):
    return list(selectors.certificate_types())


@router.get("/status-list", response={200: str}, summary="本节点的状态列表（statuslist+jwt）")
def status_list(request: HttpRequest):
    record = selectors.own_status_list()
    return HttpResponse(record.token if record else "", content_type="application/statuslist+jwt")


@router.post(
    "/verify", response={200: VerdictOut, 422: Problem}, summary="核验电子证照（凭证、二维码文本或 PDF）"
)
def certificate_verify(request: HttpRequest, payload: VerifyIn):
    if bool(payload.text) == bool(payload.pdf_base64):
        raise InvalidInput("REQUEST_INVALID", "请提供 text 或 pdf_base64 之一。")
    data: bytes | str
    if payload.pdf_base64:
        try:
            data = base64.b64decode(payload.pdf_base64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(codes.MALFORMED, "pdf_base64 不是有效的 base64。") from None
    else:
        data = payload.text
    return selectors.verify_input(data).as_dict()


@router.get(
    "",
    response={200: list[CertificateSummaryOut], **PROBLEM},
    auth=AUTH,
    summary="我的电子证照（各城市签发的）",
)
def my_certificates(request: HttpRequest):
    return [certificate_summary(c) for c in selectors.certificates_of(request.auth)]


@router.post("", response={201: CertificateDetailOut, **PROBLEM}, auth=AUTH, summary="颁证单位签发电子证照")
def certificate_issue(request: HttpRequest, payload: IssueIn):
    cert = cert_services.certificate_issue_by_staff(
        actor=request.auth,
        type_key=payload.type,
        holder_name=payload.holder_name,
        holder_id_type=payload.holder_id_type,
        holder_id=payload.holder_id,
        data=payload.data,
        valid_from=payload.valid_from,
        number=payload.number,
    )
    return Status(201, certificate_detail(cert))


@router.get("/{identifier}", response={200: CertificateDetailOut, **PROBLEM}, auth=AUTH, summary="证照详情")
def certificate_read(request: HttpRequest, identifier: str):
    return certificate_detail(selectors.certificate_for(request.auth, identifier))


@router.get(
    "/{identifier}/credential",
    response={200: str, **PROBLEM},
    auth=AUTH,
    summary="下载凭证（SD-JWT VC）；disclose 指定只披露的字段，逗号分隔",
)
def certificate_credential(request: HttpRequest, identifier: str, disclose: str | None = None):
    text = selectors.credential_for(request.auth, identifier, disclose=disclose)
    return HttpResponse(text, content_type="application/dc+sd-jwt")


@router.get(
    "/{identifier}/pdf", response={200: None, **PROBLEM}, auth=AUTH, summary="下载可打印的 PDF（含二维码）"
)
def certificate_pdf(request: HttpRequest, identifier: str):
    from tongban.certificates.pdf import certificate_pdf as render

    cert = selectors.certificate_for(request.auth, identifier)
    response = HttpResponse(render(cert), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{cert.identifier}.pdf"'
    return response


def _status(action: str):
    def change(request: HttpRequest, identifier: str, payload: StatusChangeIn):
        cert = cert_services.certificate_status_change(
            identifier=identifier, action=action, reason=payload.reason, actor=request.auth
        )
        return certificate_detail(cert)

    change.__name__ = f"certificate_{action}"
    return change


for _action, _summary in (
    (StatusAction.SUSPEND, "暂停使用（颁证单位）"),
    (StatusAction.REVOKE, "撤销（颁证单位）"),
    (StatusAction.REINSTATE, "恢复有效（颁证单位）"),
):
    router.post(
        f"/{{identifier}}/{_action.value}",
        response={200: CertificateDetailOut, **PROBLEM},
        auth=AUTH,
        summary=_summary,
    )(_status(_action.value))
