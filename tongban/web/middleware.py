from django.utils import translation

LANG_COOKIE = "tongban_lang"
LARGE_TEXT_COOKIE = "tongban_large_text"


class PreferencesMiddleware:
    """Applies a visitor's language and large-text (适老化) choices, kept in cookies so they stay on.

    A signed-in user's large-text choice is also kept on the account (``User.large_text``); a choice
    made on this browser (the cookie, "1" or "0") wins over the account's.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        lang = request.COOKIES.get(LANG_COOKIE)
        if lang in ("zh-hans", "en"):
            request.META["HTTP_ACCEPT_LANGUAGE"] = lang
        else:
            request.META["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
        cookie = request.COOKIES.get(LARGE_TEXT_COOKIE)
        request.large_text_choice = {"1": True, "0": False}.get(cookie)
        request.large_text = cookie == "1"
        response = self.get_response(request)
        translation.deactivate()
        return response
