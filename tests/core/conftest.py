import pytest

from tongban.core import workdays


@pytest.fixture(autouse=True)
def _fresh_schedule_cache():
    """Test transactions roll back without telling the per-process schedule cache: start and end
    every test with it empty, so no test sees another's loaded years."""
    workdays.invalidate_cache()
    yield
    workdays.invalidate_cache()
