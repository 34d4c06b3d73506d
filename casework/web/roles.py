"""Which role may open a page: the view says it once, in a decorator."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from casework.models import Role

View = TypeVar("View", bound=Callable[..., Any])


def role_required(*roles: Role) -> Callable[[View], View]:
    """Signed-in users of other roles get 403; anonymous users go to the sign-in page."""

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if current_user.user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return login_required(checked)  # type: ignore[return-value]

    return decorate
