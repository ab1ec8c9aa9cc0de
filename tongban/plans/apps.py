from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "tongban.plans"
    label = "plans"
    verbose_name = "推进督办"
