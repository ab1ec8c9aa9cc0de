from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "tongban.exchange"
    label = "exchange"
    verbose_name = "节点交换"

    def ready(self) -> None:
        from tongban.exchange.ping import register_handlers

        register_handlers()
