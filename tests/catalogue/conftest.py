import shutil
from pathlib import Path

import pytest

from tongban.catalogue import loader


@pytest.fixture
def reference_data(db):
    """The reference catalogue, loaded into the test database."""
    return loader.reference_data_load()


@pytest.fixture
def data_copy(tmp_path) -> tuple[Path, Path]:
    """A writable copy of the reference data files: (catalogue dir, organisations file)."""
    catalogue_dir = tmp_path / "catalogue"
    shutil.copytree(loader.CATALOGUE_DIR, catalogue_dir)
    organisations = tmp_path / "organisations.json"
    shutil.copy(loader.ORGANISATIONS_FILE, organisations)
    return catalogue_dir, organisations
