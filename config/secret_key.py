"""A secret key kept on this machine: made on the first run, read on every later one.

A teacher running `make run` should not have to invent a secret, and a key that changes at
each start would log every learner out. So, when `SECRET_KEY` is not given, the first start
writes a random key to a local file (git ignores it) and later starts read it back. Several
processes starting at once agree on one key: the file appears whole or not at all.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key


def local_secret_key(path: Path) -> str:
    """The key stored at `path`, written there first if there is none yet."""
    key = _read(path)
    if key:
        return key
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=".secret-key-", dir=path.parent)
    except OSError as exc:
        raise _unwritable(path, exc) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as fh:
            fh.write(get_random_secret_key() + "\n")
        # A link fails if the file exists: the first process to get there wins, whole.
        os.link(temporary, path)
    except FileExistsError:
        pass
    except OSError as exc:
        raise _unwritable(path, exc) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    key = _read(path)
    if not key:
        raise ImproperlyConfigured(f"{path} holds no secret key: delete it or set SECRET_KEY")
    return key


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ImproperlyConfigured(f"cannot read {path}: {exc.strerror}") from None


def _unwritable(path: Path, exc: OSError) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"SECRET_KEY is not set and {path} cannot be written ({exc.strerror}): "
        "set SECRET_KEY (or SECRET_KEY_FILE) for this deployment"
    )
