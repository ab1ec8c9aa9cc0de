"""Sign in, sign out, registration of citizens and enterprises."""

from __future__ import annotations

from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse

from tongban.accounts.services import citizen_register, enterprise_register
from tongban.cases.access import can_see_queue
from tongban.core.errors import TongbanError
from tongban.web.forms import CitizenRegistrationForm, EnterpriseRegistrationForm, LoginForm
from tongban.web.views.common import safe_next

BACKEND = "tongban.accounts.backends.LockoutAwareBackend"


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        if can_see_queue(self.request.user):
            return reverse("web:workbench")
        return super().get_default_redirect_url()


class LogoutView(auth_views.LogoutView):
    pass


def _register(request, form_class, register, template: str):
    error = None
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "password2"}
            try:
                user = register(**data)
            except TongbanError as exc:
                error = exc
                form.apply_service_error(exc)
            else:
                login(request, user, backend=BACKEND)
                return redirect(safe_next(request))
    else:
        form = form_class()
    status = error.status if error else (422 if form.is_bound else 200)
    return render(
        request, template, {"form": form, "error": error, "next": request.GET.get("next", "")}, status=status
    )


def register_citizen(request):
    """个人注册, with real-name verification by the service."""
    return _register(request, CitizenRegistrationForm, citizen_register, "web/register.html")


def register_enterprise(request):
    """法人注册: the enterprise (统一社会信用代码) and the agent who acts for it."""
    return _register(request, EnterpriseRegistrationForm, enterprise_register, "web/register_enterprise.html")
