"""One view serves the whole page or, to htmx, the fragment it swaps in."""

from flask import make_response, redirect, render_template, request
from werkzeug.wrappers import Response


def is_htmx() -> bool:
    """Tell whether htmx sent the request."""
    return request.headers.get("HX-Request") == "true"


def wants_fragment() -> bool:
    """True for htmx requests that swap a part of the page (boosts and history need it all)."""
    return (
        is_htmx()
        and "HX-Boosted" not in request.headers
        and "HX-History-Restore-Request" not in request.headers
    )


def render(template: str, fragment: str, /, status: int = 200, **context) -> Response:
    """Render the whole page, or only its fragment for a non-boosted htmx request.

    The templates see ``swapped`` (true for the fragment), e.g. to move focus into new content.
    """
    swapped = wants_fragment()
    name = fragment if swapped else template
    response = make_response(render_template(name, swapped=swapped, **context), status)
    response.vary.add("HX-Request")
    return response


def redirect_to(location: str) -> Response:
    """Redirect a browser; htmx gets HX-Redirect, since it would swap a followed 302 in place."""
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, 303)
