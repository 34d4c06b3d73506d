"""First run of an office's Casework: the first administrator and the territories it starts with.

`casework init` (casework.cli) migrates the schema, then calls what is here, in one transaction:
the territories (from the command line or a TOML file, see `load_territories_file`) and the
first administrator, each recorded in the administrative log with no actor (the installer).
A second run finds the administrator and changes nothing.

Errors are codes (InvalidInput {field: code}); `ADMIN_MESSAGES` says them in words for the
command line. A territories file's problems are `TerritoryFileError`s, each naming the file
and, where it can be found, the line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.administration.comuni import comune_by_code
from casework.db import column_length
from casework.errors import InvalidInput
from casework.models import Role, Territory, TerritoryKind, User
from casework.security import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    password_problem,
    record_admin_change,
)

ADMIN_ENVIRONMENT = {
    "username": "CASEWORK_ADMIN_USERNAME",
    "full_name": "CASEWORK_ADMIN_FULL_NAME",
    "email": "CASEWORK_ADMIN_EMAIL",
    "password": "CASEWORK_ADMIN_PASSWORD",
}
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,79}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_ISTAT = re.compile(r"^\d{6}$")

ADMIN_MESSAGES = {
    ("username", "required"): "the username is required",
    ("username", "invalid"): "the username takes 3 to 80 lower-case letters, digits, dots, dashes or underscores, "
                             "starting with a letter or digit",
    ("username", "taken"): "this username is already in use",
    ("full_name", "required"): "the full name is required",
    ("full_name", "too_long"): "the full name is too long",
    ("email", "required"): "the e-mail address is required",
    ("email", "invalid"): "this is not an e-mail address (e.g. name@comune.example.it)",
    ("email", "too_long"): "the e-mail address is too long",
    ("password", "required"): "the password is required",
    ("password", "too_short"): f"the password is too short: at least {MIN_PASSWORD_LENGTH} characters",
    ("password", "too_long"): f"the password is too long: at most {MAX_PASSWORD_LENGTH} characters",
    ("password", "too_common"): "this password is among the first ones anyone would try: choose another",
    ("password", "too_simple"): "the password repeats too few characters: choose a longer phrase",
    ("password", "contains_username"): "the password must not contain the username",
    ("password", "mismatch"): "the two passwords differ",
}


def admin_message(field_name: str, code: str) -> str:
    return ADMIN_MESSAGES.get((field_name, code), f"{field_name}: not accepted ({code})")


@dataclass(frozen=True)
class AdminInput:
    username: str
    full_name: str
    email: str
    password: str
    password_again: str | None = None  # None: not asked twice (automated installs)

    def cleaned(self) -> AdminInput:
        return AdminInput(self.username.strip().lower(), " ".join(self.full_name.split()), self.email.strip(),
                          self.password, self.password_again)


def check_username(username: str) -> str | None:
    if not username:
        return "required"
    return None if _USERNAME.match(username) else "invalid"


def check_full_name(full_name: str) -> str | None:
    if not full_name:
        return "required"
    return "too_long" if len(full_name) > column_length(User.full_name) else None


def check_email(email: str) -> str | None:
    if not email:
        return "required"
    if len(email) > column_length(User.email):
        return "too_long"
    return None if _EMAIL.match(email) else "invalid"


def check_password(password: str, username: str = "") -> str | None:
    """A password the first administrator may have: the accounts' one policy."""
    return password_problem(password, username)


def admin_errors(data: AdminInput) -> dict[str, str]:
    data = data.cleaned()
    errors = {name: code for name, code in (
        ("username", check_username(data.username)), ("full_name", check_full_name(data.full_name)),
        ("email", check_email(data.email)), ("password", check_password(data.password, data.username)),
    ) if code}
    if "password" not in errors and data.password_again is not None and data.password_again != data.password:
        errors["password"] = "mismatch"
    return errors


def admin_from_environment(environ: Mapping[str, str]) -> AdminInput | None:
    """The administrator of an automated install; None when no CASEWORK_ADMIN_* variable is set."""
    if not any(environ.get(name) for name in ADMIN_ENVIRONMENT.values()):
        return None
    values = {key: environ.get(name, "") for key, name in ADMIN_ENVIRONMENT.items()}
    if not values["full_name"]:
        values["full_name"] = values["username"]
    return AdminInput(**values)


def first_administrator(session: Session) -> User | None:
    return session.scalars(select(User).where(User.role == Role.ADMIN).order_by(User.id).limit(1)).first()


# Territories ---------------------------------------------------------------------------------


# The name of a comune by its ISTAT code, or None: the official list, when one is at hand.
ComuneNames = Callable[[str], str | None]


@dataclass
class ComuneSpec:
    istat_code: str
    name: str


@dataclass
class TerritorySpec:
    name: str
    kind: TerritoryKind
    comuni: list[ComuneSpec] = field(default_factory=list)
    children: list[TerritorySpec] = field(default_factory=list)


class TerritoryFileError(Exception):
    """What is wrong in a territories file or option, as `file:line: message` lines."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


KINDS = {kind.value: kind for kind in TerritoryKind}
_TERRITORY_KEYS = {"name", "kind", "comuni", "children"}
_COMUNE_KEYS = {"name", "istat_code"}


class _Reader:
    """Checks a parsed file and collects every problem with the best position it can find."""

    def __init__(self, source: str, text: str, names: ComuneNames | None = None):
        self.names = names
        self.source = source
        self.lines = text.splitlines()
        self.problems: list[str] = []
        self.seen_codes: dict[str, str] = {}
        self.cursor = 0

    def where(self, value: Any, *, key: bool = False) -> str:
        """The file and the line holding `value` (or the key `value`), searched from the line of the
        last problem on, so that a value written twice is found where it is wrong."""
        if not isinstance(value, str) or not value:
            return self.source
        key_pattern = re.compile(rf"^\s*{re.escape(value)}\s*=")
        number_pattern = re.compile(rf"=\s*{re.escape(value)}\b")

        def matches(line: str) -> bool:
            if key:
                return bool(key_pattern.search(line))
            return (f'"{value}"' in line or f"'{value}'" in line
                    or (value.isdigit() and bool(number_pattern.search(line))))
        order = [*range(self.cursor, len(self.lines)), *range(self.cursor)]
        for index in order:
            if matches(self.lines[index]):
                self.cursor = index + 1
                return f"{self.source}:{index + 1}"
        return self.source

    def problem(self, value: Any, path: str, message: str, *, key: bool = False) -> None:
        self.problems.append(f"{self.where(value, key=key)}: {path}: {message}")

    def territory(self, raw: Any, path: str, *, nested: bool) -> TerritorySpec | None:
        if not isinstance(raw, Mapping):
            self.problem(None, path, "expected a table with name and kind")
            return None
        for key in raw:
            if key not in _TERRITORY_KEYS:
                self.problem(key, path, f"unknown key {key!r} (expected: {', '.join(sorted(_TERRITORY_KEYS))})",
                             key=True)
        name = raw.get("name")
        self.where(name)  # moves the search on to this territory
        if not isinstance(name, str) or not name.strip():
            self.problem(None, path, "a territory needs a name")
            name = ""
        elif len(name.strip()) > column_length(Territory.name):
            self.problem(name, f"{path}.name", f"the name is longer than {column_length(Territory.name)} characters")
        kind_text = raw.get("kind")
        kind = KINDS.get(kind_text) if isinstance(kind_text, str) else None
        if kind is None:
            self.problem(kind_text if isinstance(kind_text, str) else name, f"{path}.kind",
                         f"kind {kind_text!r} is not one of: {', '.join(k for k in KINDS if k != 'comune')}")
        elif kind == TerritoryKind.COMUNE:
            self.problem(kind_text, f"{path}.kind", "list comuni under `comuni` of their territory "
                                                    "(name and istat_code), not as territories")
            kind = None
        comuni = []
        raw_comuni = raw.get("comuni", [])
        if not isinstance(raw_comuni, list):
            self.problem(name, f"{path}.comuni", "expected a list of { name = ..., istat_code = ... }")
            raw_comuni = []
        for index, item in enumerate(raw_comuni):
            comune = self.comune(item, f"{path}.comuni[{index}]")
            if comune is not None:
                comuni.append(comune)
        children = []
        raw_children = raw.get("children", [])
        if not isinstance(raw_children, list):
            self.problem(name, f"{path}.children", "expected [[...children]] tables")
            raw_children = []
        for index, item in enumerate(raw_children):
            child = self.territory(item, f"{path}.children[{index}]", nested=True)
            if child is not None:
                children.append(child)
        if kind is None or not name:
            return None
        return TerritorySpec(name.strip(), kind, comuni, children)

    def comune(self, raw: Any, path: str) -> ComuneSpec | None:
        if not isinstance(raw, Mapping):
            self.problem(None, path, "expected { name = ..., istat_code = ... }")
            return None
        for key in raw:
            if key not in _COMUNE_KEYS:
                self.problem(key, path, f"unknown key {key!r} (expected: istat_code, name)", key=True)
        code, name = raw.get("istat_code"), raw.get("name")
        if (name is None and self.names is not None and isinstance(code, str) and _ISTAT.match(code)):
            name = self.names(code)
        ok = True
        if isinstance(code, int):
            self.problem(str(code), f"{path}.istat_code", "write the ISTAT code in quotes, e.g. \"001265\" "
                                                          "(as a number it loses its leading zeros)")
            ok = False
        elif not isinstance(code, str) or not _ISTAT.match(code):
            self.problem(code if isinstance(code, str) else name, f"{path}.istat_code",
                         f"ISTAT code {code!r} is not 6 digits")
            ok = False
        elif code in self.seen_codes:
            self.problem(code, f"{path}.istat_code", f"ISTAT code {code} is listed twice "
                                                     f"(also {self.seen_codes[code]})")
            ok = False
        if not isinstance(name, str) or not name.strip():
            self.problem(code if isinstance(code, str) else None, f"{path}.name", "a comune needs a name")
            ok = False
        elif len(name.strip()) > column_length(Territory.name):
            self.problem(name, f"{path}.name", f"the name is longer than {column_length(Territory.name)} characters")
            ok = False
        if not ok:
            return None
        self.seen_codes[code] = path
        self.where(code)  # moves the search on: a later problem is looked for below this line
        return ComuneSpec(code, name.strip())


def parse_territories(text: str, source: str = "territories", names: ComuneNames | None = None) -> list[TerritorySpec]:
    """Territories from TOML text: `[[territory]]` tables with name, kind, optional `comuni`
    (a list of {name, istat_code}) and `[[territory.children]]` below them. Raises TerritoryFileError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = re.search(r"at line (\d+)", str(error))
        where = f"{source}:{line.group(1)}" if line else source
        raise TerritoryFileError([f"{where}: not valid TOML: {error}"]) from None
    reader = _Reader(source, text, names)
    for key in data:
        if key != "territory":
            reader.problem(key, key, "unknown key (the file holds [[territory]] tables)", key=True)
    roots = data.get("territory", [])
    if not isinstance(roots, list) or not roots:
        reader.problem(None, "territory", "no [[territory]] table: the file must describe at least one territory")
        roots = []
    specs = []
    for index, raw in enumerate(roots):
        spec = reader.territory(raw, f"territory[{index}]", nested=False)
        if spec is not None:
            specs.append(spec)
    if reader.problems:
        raise TerritoryFileError(reader.problems)
    return specs


def load_territories_file(path: Path, names: ComuneNames | None = None) -> list[TerritorySpec]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TerritoryFileError([f"{path}: cannot be read: {error.strerror or error}"]) from None
    except UnicodeDecodeError:
        raise TerritoryFileError([f"{path}: not UTF-8 text"]) from None
    return parse_territories(text, str(path), names)


def territory_from_options(name: str, kind: str, comuni: str, names: ComuneNames | None = None) -> TerritorySpec:
    """`--territory NAME --kind KIND --comuni 001265=Settimo Torinese,001314=Volpiano`; with `names`
    (the ISTAT list) a bare code is enough."""
    problems = []
    name = " ".join((name or "").split())
    if not name:
        problems.append("--territory: give the territory's name")
    elif len(name) > column_length(Territory.name):
        problems.append(f"--territory: the name is longer than {column_length(Territory.name)} characters")
    territory_kind = KINDS.get((kind or "").strip().lower())
    if territory_kind is None or territory_kind == TerritoryKind.COMUNE:
        problems.append(f"--kind: {kind!r} is not one of: ambito, unione, consorzio")
    specs, seen = [], set()
    for item in filter(None, (part.strip() for part in (comuni or "").split(","))):
        code, _, comune_name = item.partition("=")
        code, comune_name = code.strip(), " ".join(comune_name.split())
        if not comune_name and names is not None and _ISTAT.match(code):
            comune_name = names(code) or ""
            if not comune_name:
                problems.append(f"--comuni: {code} is not in the ISTAT list of comuni")
                continue
        if not _ISTAT.match(code):
            problems.append(f"--comuni: ISTAT code {code!r} is not 6 digits")
        elif not comune_name:
            problems.append(f"--comuni: give the name of comune {code} too, as {code}=Name")
        elif code in seen:
            problems.append(f"--comuni: ISTAT code {code} is listed twice")
        else:
            seen.add(code)
            specs.append(ComuneSpec(code, comune_name))
    if problems:
        raise TerritoryFileError(problems)
    return TerritorySpec(name, territory_kind, specs)  # type: ignore[arg-type]


@dataclass
class TerritoryReport:
    created: list[Territory] = field(default_factory=list)
    kept: list[Territory] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def create_territories(
    session: Session, specs: list[TerritorySpec], *, now: datetime, actor: User | None = None,
) -> TerritoryReport:
    """Create what is missing of the tree; a territory with the same name, kind and parent, or a
    comune with the same ISTAT code, is kept. Each creation goes to the administrative log."""
    report = TerritoryReport()

    def ensure(name: str, kind: TerritoryKind, parent: Territory | None, istat_code: str | None) -> Territory:
        if istat_code is not None:
            existing = session.scalars(select(Territory).where(Territory.istat_code == istat_code)).first()
        else:
            existing = session.scalars(select(Territory).where(
                func.lower(Territory.name) == name.lower(), Territory.kind == kind,
                Territory.parent_id.is_(None) if parent is None else Territory.parent_id == parent.id,
            )).first()
        if existing is not None:
            if istat_code is not None and existing.parent_id != (parent.id if parent else None):
                report.conflicts.append(f"comune {istat_code} {existing.name} already belongs to another territory: "
                                        "left where it is")
            report.kept.append(existing)
            return existing
        official = comune_by_code(istat_code) if istat_code is not None else None
        territory = Territory(name=name, kind=kind, istat_code=istat_code, parent=parent,
                              province=official.province if official else None,
                              cadastral_code=official.cadastral_code if official else None)
        session.add(territory)
        session.flush()
        record_admin_change(session, actor=actor, action="create", subject_type="territory",
                            subject_id=territory.id, subject_label=name, now=now, changes={
                                "name": [None, name], "kind": [None, kind.value],
                                **({"istat_code": [None, istat_code]} if istat_code else {}),
                                **({"parent": [None, parent.name]} if parent else {})})
        report.created.append(territory)
        return territory

    def walk(spec: TerritorySpec, parent: Territory | None) -> None:
        territory = ensure(spec.name, spec.kind, parent, None)
        for comune in spec.comuni:
            ensure(comune.name, TerritoryKind.COMUNE, territory, comune.istat_code)
        for child in spec.children:
            walk(child, territory)

    for spec in specs:
        walk(spec, None)
    return report


def create_first_administrator(
    session: Session, data: AdminInput, territory: Territory, *, now: datetime, locale: str = "it",
) -> User:
    """The first administrator, in `territory`; InvalidInput if the input is not acceptable."""
    errors = admin_errors(data)
    data = data.cleaned()
    if "username" not in errors and session.scalar(
        select(func.count()).select_from(User).where(func.lower(User.username) == data.username)
    ):
        errors["username"] = "taken"
    if errors:
        raise InvalidInput(errors)
    user = User(username=data.username, full_name=data.full_name, email=data.email,
                password_hash=hash_password(data.password), role=Role.ADMIN, territory=territory, locale=locale,
                active=True, created_at=now)
    session.add(user)
    session.flush()
    record_admin_change(session, actor=None, action="create", subject_type="user", subject_id=user.id,
                        subject_label=user.username, now=now, changes={
                            "username": [None, user.username], "full_name": [None, user.full_name],
                            "email": [None, user.email], "role": [None, Role.ADMIN.value],
                            "territory": [None, territory.name], "password": [None, "set"]})
    return user
