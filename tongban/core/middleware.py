from tongban.core.context import Origin, acting_from


class RequestContextMiddleware:
    """Records the channel and client address of each request for the audit log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        channel = "api" if request.path.startswith("/api/") else "web"
        with acting_from(Origin(channel=channel, address=request.META.get("REMOTE_ADDR", ""))):
            return self.get_response(request)
