from django.contrib import admin
from django.urls import include, path

from tongban.api.v1.api import api as api_v1
from tongban.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api_v1.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("federation/v1/", include("tongban.exchange.urls")),
    path("", include("tongban.web.urls")),
]
