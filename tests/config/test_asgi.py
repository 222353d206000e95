from __future__ import annotations

import gc


def test_the_objects_loaded_at_startup_are_kept_out_of_full_collections():
    import config.asgi  # noqa: F401

    # Several hundred thousand objects (Django, the apps, the routing): a full collection
    # that walked them all stopped every socket of the process for over 100 ms.
    assert gc.get_freeze_count() > 100_000
