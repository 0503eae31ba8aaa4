"""Help topics: a page of their own, or the body of a collapsible panel loaded by htmx."""

from flask import abort, current_app, render_template

from ..htmx import render
from . import bp

TOPICS = {
    "registration": "Как зарегистрироваться",
    "recovery": "Как восстановить доступ",
    "link-account": "Как привязать лицевой счет",
    "accounts": "Ваши лицевые счета",
}


@bp.get("/<topic>")
def topic(topic):
    """One help topic."""
    if topic not in TOPICS:
        abort(404)
    fragment = f"help/_partials/{topic.replace('-', '_')}.html"
    return render("help/topic.html", fragment, topic=topic, title=TOPICS[topic], body=fragment)


@bp.get("/privacy")
def privacy():
    """The policy of personal data processing that the consent at registration refers to."""
    return render_template(
        "help/privacy.html", version=current_app.config["PRIVACY_POLICY_VERSION"]
    )
