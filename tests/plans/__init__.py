import pytest

# The shared fixtures module is imported by test modules before pytest loads it as a plugin.
pytest.register_assert_rewrite("tests.plans.import_fixtures")
