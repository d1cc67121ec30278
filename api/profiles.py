"""The policy profiles a screening may run under, chosen by name, never by path.

The registry is the profiles shipped with the package (``integrity/policies``) and those an
admin added through ``POST /policies`` (kept in ``<data_dir>/policies``, 0600). A name is a
short slug; anything else — a path to a file on the server above all — is refused before a
file is opened, so an error can never quote a file the caller should not read.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from api.files import FILE_MODE, private_dir
from integrity.errors import PolicyError
from integrity.policy import Profile, available_profiles, load_profile, parse_profile

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
NAME_PATTERN = NAME.pattern
MAX_PROFILE_BYTES = 256 * 1024


class UnknownProfile(LookupError):  # noqa: N818 - read as "unknown profile", not a fault
    """No profile of that name; ``available`` lists the names there are."""

    def __init__(self, name: str, available: list[str]) -> None:
        super().__init__(name)
        self.name = name
        self.available = available


class ProfileExists(FileExistsError):  # noqa: N818 - read as "profile exists"
    """An added profile of that name is there already (add the new one under a new name)."""


class Profiles:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _added(self) -> dict[str, Path]:
        if not self.folder.is_dir():
            return {}
        return {p.stem: p for p in sorted(self.folder.glob("*.toml")) if NAME.match(p.stem)}

    def names(self) -> list[str]:
        return sorted({*available_profiles(), *self._added()})

    def source(self, name: str) -> str | Path:
        """What :func:`integrity.policy.load_profile` takes for ``name``: the shipped
        profile's name or the added profile's file."""
        if NAME.match(name):
            if name in available_profiles():
                return name
            added = self._added()
            if name in added:
                return added[name]
        raise UnknownProfile(name, self.names())

    def get(self, name: str) -> Profile:
        return load_profile(self.source(name))

    def add(self, text: str, filename: str) -> Profile:
        """Validate an admin's profile file and keep it under its own ``name``; a shipped
        profile is never replaced. Raises :class:`PolicyError` naming the upload."""
        profile = parse_profile(text, filename)
        if not NAME.match(profile.name):
            raise PolicyError(
                f"{filename}: name = {profile.name!r} 须为小写字母、数字与连字符 / "
                f"must match {NAME_PATTERN}"
            )
        if profile.name in available_profiles():
            raise PolicyError(
                f"{filename}: 「{profile.name}」是内置配置，不能覆盖 / a shipped profile "
                "cannot be replaced; give the new profile another name"
            )
        private_dir(self.folder)
        target = self.folder / f"{profile.name}.toml"
        fresh = self.folder / f".{profile.name}.{uuid.uuid4().hex}.tmp"
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            # never over a profile already added: screenings run under it name it, and an
            # index rebuilt from one of them must judge as it did
            os.link(fresh, target)
        except FileExistsError as exc:
            raise ProfileExists(profile.name) from exc
        finally:
            fresh.unlink(missing_ok=True)
        return profile
