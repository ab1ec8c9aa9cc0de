"""Pages of plan supervision's tracking (reporting, review, lights, indicators, assessment, ledger).
Included into ``tongban.web.urls`` (namespace ``web``)."""

from django.urls import path

from tongban.web.views import plans_tracking as v

P = "plans/<slug:code>/"

urlpatterns = [
    path(P + "dashboard/", v.plan_dashboard, name="plan_dashboard"),
    path(P + "reports/", v.plan_reports, name="plan_reports"),
    path(P + "reports/tasks/<int:number>/", v.plan_report, name="plan_report"),
    path(P + "reports/<int:report_id>/files/<int:attachment_id>/", v.plan_attachment, name="plan_attachment"),
    path(P + "periods/close/", v.plan_period_close, name="plan_period_close"),
    path(P + "review/", v.plan_review, name="plan_review"),
    path(P + "review/<int:report_id>/", v.plan_review, name="plan_review_report"),
    path(P + "indicators/", v.plan_indicators, name="plan_indicators"),
    path(P + "indicators/<int:pk>/", v.plan_indicator, name="plan_indicator"),
    path(P + "assessment/", v.plan_assessment, name="plan_assessment"),
    path(P + "ledger/export/", v.plan_ledger_export, name="plan_ledger_export"),
    path(P + "ledger/import/", v.plan_ledger_import, name="plan_ledger_import"),
]
