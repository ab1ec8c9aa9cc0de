"""The public page of replies to suggestions and proposals (答复公开): anyone, no login. Only replies
a reviewer approved, once their publication date has come; personal data already removed."""

from __future__ import annotations

from django.shortcuts import render

from tongban.proposals import selectors
from tongban.web.views.common import handles_errors, paginate


def public_replies(request):
    q = (request.GET.get("q") or "").strip()[:50]
    page = paginate(request, selectors.publications_public(query=q))
    return render(request, "web/proposals/public_list.html", {"page": page, "q": q})


@handles_errors
def public_reply(request, pk: int):
    pub = selectors.publication_public(pk)
    paragraphs = [line for line in pub.body.splitlines() if line.strip()]
    return render(request, "web/proposals/public_detail.html", {"pub": pub, "paragraphs": paragraphs})
