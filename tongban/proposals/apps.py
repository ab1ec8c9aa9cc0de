from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    name = "tongban.proposals"
    label = "proposals"
    verbose_name = "建议提案办理"

    def ready(self) -> None:
        from tongban.exchange.worker import register_periodic
        from tongban.proposals import tasks

        # Deadlines move by the day: once an hour is plenty and catches a restart the same day.
        register_periodic("proposals.deadlines", lambda: 3600.0, tasks.deadlines_step)
        # Superseded search rows are only dead weight; every process has read past them within seconds.
        register_periodic("proposals.search_compact", lambda: 6 * 3600.0, tasks.search_compact_step)
