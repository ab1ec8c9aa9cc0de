"""A plan previewed and never saved does not stay on disk: the hourly sweep removes it after a day."""

from __future__ import annotations

import os
import time

from tongban.plans.tasks import PREVIEW_KEEP_SECONDS, preview_path, previews_sweep


def test_old_previews_are_removed_and_fresh_ones_kept(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    old, fresh = preview_path("a" * 64), preview_path("b" * 64)
    old.parent.mkdir(parents=True)
    old.write_bytes(b"old plan")
    fresh.write_bytes(b"new plan")
    past = time.time() - PREVIEW_KEEP_SECONDS - 60
    os.utime(old, (past, past))
    assert previews_sweep() == 1
    assert not old.exists() and fresh.exists()
    assert previews_sweep() == 0


def test_no_preview_folder_is_nothing_to_do(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "empty"
    assert previews_sweep() == 0
