"""The public portal: the catalogue (一次告知) and the visitor's preferences."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tongban.accounts.services import preferences_set
from tongban.cases import statistics
from tongban.catalogue import selectors as catalogue
from tongban.catalogue.search import COUNT_CAP
from tongban.web.forms import ItemSearchForm
from tongban.web.middleware import LANG_COOKIE, LARGE_TEXT_COOKIE
from tongban.web.views.common import handles_errors, paginate, safe_next

PREFERENCE_COOKIE_AGE = 365 * 24 * 3600


def home(request):
    """Search the catalogue of every city, by words, city and 跨省通办 mode."""
    cities = catalogue.cities_with_items()
    form = ItemSearchForm(request.GET or None, cities=cities)
    q = city = mode = ""
    if form.is_bound:
        form.is_valid()
        q = form.cleaned_data.get("q") or ""
        city = form.cleaned_data.get("city") or ""
        mode = form.cleaned_data.get("mode") or ""
    items = catalogue.item_search(query=q, city_code=city or None, mode=mode or None)
    page = paginate(request, items)
    city_names = {c.code: c.name for c in cities}
    rows = [(item, city_names.get(item.city_code, item.city_code)) for item in page.object_list]
    searched = bool(q or city or mode)
    popular = {}
    if not searched and page.number == 1:
        # 本市 and 全域 most-used items: a visitor's city is this node's; so is a signed-in user's.
        popular = {
            "city": statistics.popular_items(city_code=settings.NODE_CODE),
            "delta": statistics.popular_items(),
            "city_name": city_names.get(settings.NODE_CODE, ""),
        }
    return render(
        request,
        "web/home.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "searched": searched,
            "popular": popular,
            # a broad query's count stops at a cap (see catalogue.search.COUNT_CAP)
            "count_capped": getattr(items, "count_capped", False),
            "count_cap": COUNT_CAP,
        },
    )


@handles_errors
def item_detail(request, code: str):
    """一次告知: everything needed for an item on one page, with the button to apply."""
    item = catalogue.item_get(implementation_code=code)
    materials = catalogue.item_materials(item)
    return render(request, "web/item_detail.html", {"item": item, "materials": materials})


@require_POST
def set_language(request):
    lang = request.POST.get("language", "")
    response = redirect(safe_next(request))
    if lang in dict(settings.LANGUAGES):
        response.set_cookie(LANG_COOKIE, lang, max_age=PREFERENCE_COOKIE_AGE, samesite="Lax")
    return response


@require_POST
def set_large_text(request):
    """适老化 大字模式: kept in a cookie, and on the account for a signed-in user."""
    on = request.POST.get("large_text") == "1"
    if request.user.is_authenticated:
        preferences_set(user=request.user, large_text=on)
    response = redirect(safe_next(request))
    response.set_cookie(LARGE_TEXT_COOKIE, "1" if on else "0", max_age=PREFERENCE_COOKIE_AGE, samesite="Lax")
    return response
