from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "tongban.catalogue"
    label = "catalogue"
    verbose_name = "事项目录"

    def ready(self) -> None:
        # What this app does with envelopes from other nodes (see docs/exchange.md).
        from tongban.catalogue.federation import register_handlers

        register_handlers()
