from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "tongban.cases"
    label = "cases"
    verbose_name = "办件"

    def ready(self) -> None:
        # What this app does with envelopes from other nodes (see docs/exchange.md).
        from tongban.cases.federation import register_handlers

        register_handlers()
