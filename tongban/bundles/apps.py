from django.apps import AppConfig


class BundlesConfig(AppConfig):
    name = "tongban.bundles"
    label = "bundles"
    verbose_name = "一件事"

    def ready(self) -> None:
        from tongban.bundles import tasks
        from tongban.exchange.worker import register_periodic

        # Outside parties due now; bundles a step change marked (the commit usually did it at once);
        # and, now and then, every open bundle, so a node restarted mid-bundle carries on.
        register_periodic("bundles.external", lambda: 1.0, tasks.external_step)
        register_periodic("bundles.advance", lambda: 1.0, tasks.advance_step)
        register_periodic("bundles.sweep", lambda: 60.0, tasks.sweep_step)
