"""Pages of proposals: included into ``tongban.web.urls`` (namespace ``web``)."""

from django.urls import path

from tongban.web.views import proposals, proposals_public

P = "workbench/proposals/<uuid:public_id>/"

urlpatterns = [
    # The public: published replies, no login.
    path("replies/", proposals_public.public_replies, name="public_replies"),
    path("replies/<int:pk>/", proposals_public.public_reply, name="public_reply"),
    # Staff.
    path("workbench/proposals/", proposals.proposal_list, name="proposals"),
    path("workbench/proposals/new/", proposals.proposal_register, name="proposal_register"),
    path("workbench/proposals/statistics/", proposals.proposal_statistics, name="proposal_statistics"),
    path(
        "workbench/proposals/statistics.xlsx",
        proposals.proposal_statistics_xlsx,
        name="proposal_statistics_xlsx",
    ),
    path("workbench/proposals/publications/", proposals.publications_review, name="proposal_publications"),
    path(
        "workbench/proposals/publications/<int:pk>/",
        proposals.publication_review,
        name="proposal_publication",
    ),
    path(P, proposals.proposal_page, name="proposal"),
    path(P + "draft/", proposals.proposal_draft, name="proposal_draft"),
    path(P + "letter.<str:fmt>", proposals.proposal_letter, name="proposal_letter"),
    path(P + "<slug:action>/", proposals.proposal_action, name="proposal_action"),
]
