from django.apps import AppConfig


class BundlesConfig(AppConfig):
    name = "tongban.bundles"
    label = "bundles"
    verbose_name = "一件事"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from tongban.bundles import tasks
        from tongban.bundles.definitions import caches_clear
        from tongban.catalogue.models import Material, ServiceItem
        from tongban.exchange.worker import register_periodic

        # A changed item or material is seen at once in this process (others within the cache's 30 s).
        for model in (ServiceItem, Material):
            post_save.connect(lambda **kw: caches_clear(), sender=model, weak=False)
            post_delete.connect(lambda **kw: caches_clear(), sender=model, weak=False)

        # Outside parties due now; bundles a step change marked (the commit usually did it at once);
        # and, now and then, every open bundle, so a node restarted mid-bundle carries on.
        register_periodic("bundles.external", lambda: 1.0, tasks.external_step)
        register_periodic("bundles.advance", lambda: 1.0, tasks.advance_step)
        register_periodic("bundles.sweep", lambda: 60.0, tasks.sweep_step)
