"""Pages of plans: included into ``tongban.web.urls`` (namespace ``web``)."""

from django.urls import path

from tongban.web.views import plans_import

urlpatterns: list = [
    path("plans/", plans_import.plans, name="plans"),
    path("plans/import/", plans_import.plan_import, name="plan_import"),
    path("plans/<slug:code>/", plans_import.plan, name="plan"),
    path("plans/<slug:code>/assign/", plans_import.plan_assign, name="plan_assign"),
    path(
        "plans/<slug:code>/assign/template.xlsx",
        plans_import.plan_assign_template,
        name="plan_assign_template",
    ),
]
