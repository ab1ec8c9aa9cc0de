from django.urls import path

from tongban.web import urls_plans, urls_plans_tracking, urls_proposals
from tongban.web.views import accounts, applicant, bundles, certificates, dashboards, portal, workbench

app_name = "web"

CASE = "workbench/cases/<str:number>/"

urlpatterns = [
    # Portal: the catalogue (一次告知) and preferences.
    path("", portal.home, name="home"),
    path("items/<str:code>/", portal.item_detail, name="item"),
    path("preferences/language/", portal.set_language, name="set_language"),
    path("preferences/large-text/", portal.set_large_text, name="set_large_text"),
    # Accounts.
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", accounts.LogoutView.as_view(), name="logout"),
    path("register/", accounts.register_citizen, name="register"),
    path("register/enterprise/", accounts.register_enterprise, name="register_enterprise"),
    # The applicant.
    path("items/<str:code>/apply/", applicant.apply, name="apply"),
    path("me/cases/", applicant.my_cases, name="my_cases"),
    path("me/cases/<str:number>/", applicant.case_detail, name="case"),
    path("me/cases/<str:number>/submitted/", applicant.case_submitted, name="case_submitted"),
    path("me/cases/<str:number>/resubmit/", applicant.case_resubmit, name="case_resubmit"),
    path("me/cases/<str:number>/withdraw/", applicant.case_withdraw, name="case_withdraw"),
    path("me/cases/<str:number>/rate/", applicant.case_rate, name="case_rate"),
    path("me/certificates/", certificates.my_certificates, name="certificates"),
    path("me/certificates/<str:identifier>/", certificates.certificate_page, name="certificate"),
    path("me/certificates/<str:identifier>/pdf/", certificates.certificate_pdf, name="certificate_pdf"),
    path(
        "me/certificates/<str:identifier>/credential/",
        certificates.certificate_credential,
        name="certificate_credential",
    ),
    path("certificates/verify/", certificates.verify, name="certificate_verify"),
    # 一件事: one form for a chain of items, one timeline.
    path("bundles/", bundles.bundle_list, name="bundles"),
    path("bundles/<slug:key>/apply/", bundles.bundle_apply, name="bundle_apply"),
    path("me/bundles/", bundles.my_bundles, name="my_bundles"),
    path("me/bundles/<str:number>/", bundles.bundle_page, name="bundle"),
    path("me/bundles/<str:number>/withdraw/", bundles.bundle_withdraw, name="bundle_withdraw"),
    path("me/notifications/", applicant.notifications, name="notifications"),
    path("me/notifications/read/", applicant.notifications_read, name="notifications_read"),
    path("cases/<str:number>/materials/<int:material_id>/", applicant.material_download, name="material"),
    # The workbench (staff).
    path("workbench/", workbench.queue, name="workbench"),
    path("workbench/intake/", workbench.intake, name="wb_intake"),
    path("workbench/batch/", workbench.batch, name="wb_batch"),
    path("workbench/certificates/", certificates.issued_certificates, name="wb_certificates"),
    path("workbench/certificates/<str:identifier>/", certificates.issued_certificate, name="wb_certificate"),
    path(
        "workbench/certificates/<str:identifier>/<str:action>/",
        certificates.issued_certificate_status,
        name="wb_certificate_status",
    ),
    path("statistics/", dashboards.public_statistics, name="statistics"),
    path("workbench/dashboard/", dashboards.supervisor_dashboard, name="wb_dashboard"),
    path("workbench/bundles/", bundles.supervised_bundles, name="wb_bundles"),
    path("workbench/bundles/<str:number>/", bundles.supervised_bundle, name="wb_bundle"),
    path(CASE, workbench.case_page, name="wb_case"),
    path(CASE + "accept/", workbench.accept, name="wb_accept"),
    path(CASE + "reject/", workbench.reject, name="wb_reject"),
    path(CASE + "correction/", workbench.request_correction, name="wb_correction"),
    path(CASE + "start-review/", workbench.start_review, name="wb_start_review"),
    path(CASE + "special/start/", workbench.special_start, name="wb_special_start"),
    path(CASE + "special/end/", workbench.special_end, name="wb_special_end"),
    path(CASE + "approve/", workbench.approve, name="wb_approve"),
    path(CASE + "deny/", workbench.deny, name="wb_deny"),
    path(CASE + "issue/", workbench.issue, name="wb_issue"),
]

# Plan supervision (推进督办) and proposal handling (建议提案办理) keep their routes in their own modules.
urlpatterns += urls_plans.urlpatterns + urls_proposals.urlpatterns
urlpatterns += urls_plans_tracking.urlpatterns
