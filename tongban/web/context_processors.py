from django.conf import settings


def node(request):
    user = getattr(request, "user", None)
    large = getattr(request, "large_text", False) or bool(user and user.is_authenticated and user.large_text)
    return {"node_code": settings.NODE_CODE, "node_name": settings.NODE_NAME, "large_text": large}
