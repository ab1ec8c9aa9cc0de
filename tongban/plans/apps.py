from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "tongban.plans"
    label = "plans"
    verbose_name = "推进督办"

    def ready(self) -> None:
        from tongban.exchange import files
        from tongban.exchange.worker import register_periodic
        from tongban.plans import tasks

        # Evidence files of reports are staged and put in place after the commit.
        files.register(prefix="plans/", model="plans.ReportAttachment", field="file")
        # Reminders before reports are due and overdue marks after (idempotent; hourly is plenty).
        register_periodic("plans.reminders", lambda: tasks.PERIODIC_SECONDS, tasks.reminders_step)
        register_periodic("plans.previews_sweep", lambda: tasks.PERIODIC_SECONDS, tasks.previews_sweep)
