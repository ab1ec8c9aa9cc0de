"""Pages of plans: included into ``tongban.web.urls`` (namespace ``web``)."""

urlpatterns: list = []
