from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "tongban.certificates"
    label = "certificates"
    verbose_name = "电子证照"

    def ready(self) -> None:
        from django.conf import settings

        from tongban.certificates.federation import register_handlers
        from tongban.certificates.tasks import status_list_sync_step
        from tongban.exchange.worker import register_periodic

        register_handlers()
        register_periodic(
            "certificates.status_list", lambda: settings.CERT_STATUS_SYNC_SECONDS, status_list_sync_step
        )
