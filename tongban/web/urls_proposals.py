"""Pages of proposals: included into ``tongban.web.urls`` (namespace ``web``)."""

urlpatterns: list = []
