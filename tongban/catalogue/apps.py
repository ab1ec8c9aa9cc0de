from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "tongban.catalogue"
    label = "catalogue"
    verbose_name = "事项目录"
