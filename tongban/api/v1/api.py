"""API v1: thin operations over the services and selectors. Errors are RFC 7807 problem+json."""

from __future__ import annotations

import logging
from datetime import date

from django.contrib.auth import authenticate
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Router, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from tongban.accounts import error_codes as account_codes
from tongban.accounts.services import api_token_issue, login_locked_until
from tongban.api.v1 import presenters as p
from tongban.api.v1 import schemas as s
from tongban.api.v1.auth import AUTH
from tongban.api.v1.bundles import router as bundles_router
from tongban.api.v1.certificates import router as certificates_router
from tongban.api.v1.pagination import paginate
from tongban.api.v1.plans import router as plans_router
from tongban.api.v1.plans_tracking import router as plans_tracking_router
from tongban.api.v1.proposals import router as proposals_router
from tongban.cases import selectors as case_selectors
from tongban.cases import services as case_services
from tongban.cases.rating import case_rate as case_rate_service
from tongban.catalogue import selectors as catalogue_selectors
from tongban.certificates.once_only import CertificateChoice
from tongban.core import workdays
from tongban.core.errors import InvalidInput, TongbanError, Unauthenticated
from tongban.exchange.files import open_file

log = logging.getLogger(__name__)

api = NinjaAPI(
    title="通办 Tongban API",
    version="1.0.0",
    description="长三角政务服务“一网通办”节点接口。错误以 application/problem+json 返回，`code` 稳定，`title` 为中文说明。",
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

PROBLEM = {400: s.Problem, 401: s.Problem, 403: s.Problem, 404: s.Problem, 409: s.Problem, 422: s.Problem}


def problem_response(body: dict, status: int) -> JsonResponse:
    return JsonResponse(
        body,
        status=status,
        content_type="application/problem+json",
        json_dumps_params={"ensure_ascii": False},
    )


@api.exception_handler(TongbanError)
def _tongban_error(request, exc: TongbanError):
    return problem_response(exc.problem(), exc.status)


@api.exception_handler(NinjaValidationError)
def _request_invalid(request, exc: NinjaValidationError):
    errors = [
        {
            "field": ".".join(str(x) for x in e.get("loc", [])[1:]) or "body",
            "message": e.get("msg", ""),
            "code": e.get("type", ""),
        }
        for e in exc.errors
    ]
    body = InvalidInput("REQUEST_INVALID", "请求格式不正确，请检查字段。").problem()
    body["errors"] = errors
    return problem_response(body, 422)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return problem_response(Unauthenticated().problem(), 401)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    code = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(
        exc.status_code, "HTTP_ERROR"
    )
    return problem_response(
        TongbanError(code=code, message=str(exc), status=exc.status_code).problem(), exc.status_code
    )


def _rendered(request: HttpRequest, body: dict, status: int = 200) -> HttpResponse:
    """A response our presenters built from typed columns, rendered as ninja would, without
    validating it against the ``response=`` schema again (a quarter of a 100-case queue request, a
    tenth of a submission). The schema still documents the body; tests check the body against it."""
    return api.create_response(request, body, status=status)


# --- auth -----------------------------------------------------------------------------------------

auth_router = Router(tags=["认证"])


@auth_router.post("/token", response={201: s.TokenOut, **PROBLEM}, summary="用户名和密码换取接口令牌")
def token_create(request: HttpRequest, payload: s.TokenIn):
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None:
        if getattr(request, "tongban_locked", False):
            raise TongbanError(
                code=account_codes.ACCOUNT_LOCKED,
                message="登录失败次数过多，账户已临时锁定，请稍后再试。",
                status=403,
            )
        raise Unauthenticated(account_codes.BAD_CREDENTIALS, "用户名或密码不正确。")
    _ = login_locked_until  # locked accounts never authenticate; see LockoutAwareBackend
    return Status(201, {"token": api_token_issue(user=user, name=payload.name)})


# --- catalogue ------------------------------------------------------------------------------------

items_router = Router(tags=["事项目录"])


@items_router.get("", response={200: s.ItemPage, **PROBLEM}, summary="检索事项（中文、拼音、拼音首字母）")
def items_search(
    request: HttpRequest,
    q: str = "",
    city: str | None = None,
    mode: str | None = None,
    subject: str | None = None,
    page: int = 1,
    page_size: int = 20,
):
    qs = catalogue_selectors.item_search(query=q, city_code=city, mode=mode, subject_type=subject)
    rows, has_next = paginate(qs, page=page, page_size=page_size)
    page_body = {
        "items": [p.item_summary(i) for i in rows],
        "page": page,
        "page_size": page_size,
        "has_next": has_next,
    }
    return _rendered(request, page_body)


@items_router.get("/{code}", response={200: s.ItemDetail, **PROBLEM}, summary="事项详情与一次告知")
def item_read(request: HttpRequest, code: str):
    item = catalogue_selectors.item_get(implementation_code=code)
    return p.item_detail(item, catalogue_selectors.item_materials(item))


# --- working days ---------------------------------------------------------------------------------

workdays_router = Router(tags=["工作日"])


@workdays_router.get("/add", response={200: s.WorkdaysOut, **PROBLEM}, summary="从某日次日起加 N 个工作日")
def workdays_add(request: HttpRequest, start: str, days: int):
    try:
        start_date = date.fromisoformat(start)
    except ValueError:
        raise InvalidInput("INVALID_DATE", f"日期“{start}”格式不正确，应为 YYYY-MM-DD。") from None
    if days < 0:
        raise InvalidInput("INVALID_DAYS", "工作日数不能为负数。")
    result = workdays.add_workdays(start_date, days)
    return {"start": start_date, "days": days, "date": result.date, "provisional": result.provisional}


# --- cases ----------------------------------------------------------------------------------------

cases_router = Router(tags=["办件"], auth=AUTH)


@cases_router.post(
    "", response={201: s.CaseDetailOut, 200: s.CaseDetailOut, **PROBLEM}, summary="提交申请（一表登记）"
)
def case_create(request: HttpRequest, payload: s.CaseSubmitIn):
    item = catalogue_selectors.item_get_for_application(implementation_code=payload.item)
    case = case_services.case_submit(
        applicant=request.auth,
        item=item,
        form_data=payload.form,
        files=p.uploads_from(payload.materials),
        mode=payload.mode,
        client_token=payload.client_token,
        partner_city=payload.partner_city,
        certificates=[CertificateChoice(c.material, c.identifier, c.consent) for c in payload.certificates],
    )
    return _rendered(request, p.case_detail(case_selectors.case_detail_of(case)), status=201)


@cases_router.post("/intake", response={201: s.CaseDetailOut, **PROBLEM}, summary="窗口代收（收受分离）")
def case_intake(request: HttpRequest, payload: s.IntakeIn):
    item = catalogue_selectors.item_get_for_application(implementation_code=payload.item)
    case = case_services.case_intake(
        clerk=request.auth,
        item=item,
        applicant_name=payload.applicant.name,
        applicant_id_number=payload.applicant.id_number,
        applicant_phone=payload.applicant.phone,
        identity_checked=payload.identity_checked,
        form_data=payload.form,
        files=p.uploads_from(payload.materials),
        client_token=payload.client_token,
    )
    return Status(201, p.case_detail(case_selectors.case_detail_of(case)))


@cases_router.get("", response={200: s.CasePage, **PROBLEM}, summary="我的办件，或工作人员的待办队列")
def case_list(
    request: HttpRequest,
    view: str = "auto",
    status: str | None = None,
    item: str | None = None,
    page: int = 1,
    page_size: int = 20,
):
    user = request.auth
    if view == "queue" or (view == "auto" and not user.is_applicant):
        qs = case_selectors.case_queue(user=user, status=status, item_code=item)
    else:
        qs = case_selectors.cases_of_applicant(user=user)
        if status:
            qs = qs.filter(status=status)
    rows, has_next = paginate(case_selectors.case_rows(qs), page=page, page_size=page_size)
    page_body = {
        "items": p.case_summary_rows(rows),
        "page": page,
        "page_size": page_size,
        "has_next": has_next,
    }
    return _rendered(request, page_body)


@cases_router.get("/{number}", response={200: s.CaseDetailOut, **PROBLEM}, summary="办件详情与办理记录")
def case_read(request: HttpRequest, number: str):
    return p.case_detail(case_selectors.case_detail(user=request.auth, number=number))


@cases_router.get(
    "/{number}/materials/{material_id}", response={200: None, **PROBLEM}, summary="下载办件材料"
)
def case_material(request: HttpRequest, number: str, material_id: int):
    m = case_selectors.case_material_for(user=request.auth, number=number, material_id=material_id)
    return FileResponse(open_file(m.file), content_type=m.content_type)


def _detail(request, case):
    return p.case_detail(case_selectors.case_detail_of(case))


@cases_router.post("/{number}/accept", response={200: s.CaseDetailOut, **PROBLEM}, summary="受理")
def case_accept(request: HttpRequest, number: str, payload: s.NoteIn):
    return _detail(request, case_services.case_accept(actor=request.auth, number=number, note=payload.note))


@cases_router.post("/{number}/reject-intake", response={200: s.CaseDetailOut, **PROBLEM}, summary="不予受理")
def case_reject_intake(request: HttpRequest, number: str, payload: s.ReasonIn):
    return _detail(
        request, case_services.case_reject_intake(actor=request.auth, number=number, reason=payload.reason)
    )


@cases_router.post(
    "/{number}/request-correction", response={200: s.CaseDetailOut, **PROBLEM}, summary="一次性告知补正"
)
def case_request_correction(request: HttpRequest, number: str, payload: s.CorrectionIn):
    items = [i.dict() for i in payload.items]
    return _detail(
        request,
        case_services.case_request_correction(
            actor=request.auth, number=number, items=items, note=payload.note
        ),
    )


@cases_router.post("/{number}/resubmit", response={200: s.CaseDetailOut, **PROBLEM}, summary="补正材料")
def case_resubmit(request: HttpRequest, number: str, payload: s.ResubmitIn):
    case = case_services.case_resubmit(
        actor=request.auth,
        number=number,
        files=p.uploads_from(payload.materials),
        form_data=payload.form,
        note=payload.note,
    )
    return _detail(request, case)


@cases_router.post("/{number}/start-review", response={200: s.CaseDetailOut, **PROBLEM}, summary="开始审查")
def case_start_review(request: HttpRequest, number: str):
    return _detail(request, case_services.case_start_review(actor=request.auth, number=number))


@cases_router.post(
    "/{number}/special-procedure",
    response={200: s.CaseDetailOut, **PROBLEM},
    summary="进入特别程序（暂停计时）",
)
def case_start_special(request: HttpRequest, number: str, payload: s.ReasonIn):
    return _detail(
        request, case_services.case_start_special(actor=request.auth, number=number, reason=payload.reason)
    )


@cases_router.post(
    "/{number}/special-procedure/end", response={200: s.CaseDetailOut, **PROBLEM}, summary="特别程序结束"
)
def case_end_special(request: HttpRequest, number: str, payload: s.NoteIn):
    return _detail(
        request, case_services.case_end_special(actor=request.auth, number=number, note=payload.note)
    )


@cases_router.post(
    "/{number}/decision", response={200: s.CaseDetailOut, **PROBLEM}, summary="办结：准予或不予许可"
)
def case_decide(request: HttpRequest, number: str, payload: s.DecisionIn):
    return _detail(
        request,
        case_services.case_decide(
            actor=request.auth, number=number, approve=payload.approve, reason=payload.reason
        ),
    )


@cases_router.post("/{number}/issue", response={200: s.CaseDetailOut, **PROBLEM}, summary="发证")
def case_issue(request: HttpRequest, number: str, payload: s.NoteIn):
    return _detail(request, case_services.case_issue(actor=request.auth, number=number, note=payload.note))


@cases_router.post("/{number}/withdraw", response={200: s.CaseDetailOut, **PROBLEM}, summary="申请人撤回")
def case_withdraw(request: HttpRequest, number: str, payload: s.ReasonIn):
    return _detail(
        request, case_services.case_withdraw(actor=request.auth, number=number, reason=payload.reason)
    )


@cases_router.post(
    "/{number}/rating", response={201: s.RatingOut, **PROBLEM}, summary="政务服务“好差评”（办结后，每件一次）"
)
def case_rate(request: HttpRequest, number: str, payload: s.RatingIn):
    rating = case_rate_service(
        actor=request.auth,
        number=number,
        score=payload.score,
        reasons=payload.reasons,
        comment=payload.comment,
    )
    return Status(
        201,
        {
            "number": number,
            "score": rating.score,
            "score_label": rating.get_score_label(),
            "reasons": rating.reasons,
            "comment": rating.comment,
            "rated_at": rating.rated_at,
        },
    )


api.add_router("/auth", auth_router)
api.add_router("/items", items_router)
api.add_router("/workdays", workdays_router)
api.add_router("/cases", cases_router)
api.add_router("/certificates", certificates_router)
api.add_router("/bundles", bundles_router)
api.add_router("/plans", plans_router)
api.add_router("/plans", plans_tracking_router)
api.add_router("/proposals", proposals_router)
