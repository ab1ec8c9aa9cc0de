"""What every page view shares: error pages, access decorators, safe redirects."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from tongban.cases.access import can_see_queue
from tongban.cases.services import Upload
from tongban.core.errors import Forbidden, NotFound, TongbanError

PAGE_SIZE = 20


def error_page(request, status: int, message: str = ""):
    template = {403: "web/403.html", 404: "web/404.html"}.get(status, "web/error.html")
    return render(request, template, {"message": message, "status": status}, status=status)


def forbidden(request, message: str = ""):
    return error_page(request, 403, message or _("您没有权限访问此页面。"))


def handles_errors(view):
    """A case or item the user may not see is a 404 page, an action they may not take a 403 page,
    any other refusal a page with the service's message."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            return error_page(request, 404, str(exc.message))
        except Forbidden as exc:
            return forbidden(request, str(exc.message))
        except TongbanError as exc:  # e.g. applying for a withdrawn item
            return error_page(request, exc.status, str(exc.message))

    return wrapper


def staff_required(view):
    """Workbench pages: staff only. Others get the 403 page; visitors are sent to sign in first."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_see_queue(request.user):
            return forbidden(request, _("工作台仅供工作人员使用。"))
        return view(request, *args, **kwargs)

    return wrapper


def safe_next(request, fallback: str = "web:home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(fallback)


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def uploads_of(form) -> list[Upload]:
    """The files a form received, as the services take them."""
    return [Upload(material=code, file=f) for code, f in form.uploads()]


def withdraw_confirmation(request, *, withdraw, done: str, redirect_to, template: str, context: dict):
    """撤回 pages (a case, a bundle): a page that asks for confirmation and a reason, then the POST
    that calls ``withdraw(reason)``; a refusal shows the page again with the service's message."""
    from django.contrib import messages
    from django.shortcuts import redirect

    from tongban.web.forms import WithdrawForm

    error = None
    if request.method == "POST":
        form = WithdrawForm(request.POST)
        if form.is_valid():
            try:
                withdraw(form.cleaned_data["reason"])
            except NotFound:
                raise
            except TongbanError as exc:
                error = exc
                form.apply_service_error(exc)
            else:
                messages.success(request, done)
                return redirect(redirect_to)
    else:
        form = WithdrawForm()
    return render(
        request, template, {**context, "form": form, "error": error}, status=error.status if error else 200
    )
