import pytest

from tests.certificates import kit


@pytest.fixture
def node(settings, tmp_path):
    """This test database as the 合肥 node, able to issue; returns an authority of it."""
    _, authority = kit.node(settings, tmp_path)
    return authority
