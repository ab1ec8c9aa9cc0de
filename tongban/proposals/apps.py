from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    name = "tongban.proposals"
    label = "proposals"
    verbose_name = "建议提案办理"
