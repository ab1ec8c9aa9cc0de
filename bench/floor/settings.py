"""The node's own settings, with the floor's URLs in front of the product's."""

from tongban.config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor.urls"
