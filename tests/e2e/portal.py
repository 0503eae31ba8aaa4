"""A browser tab on the portal: the steps a subscriber takes and the checks every page gets."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from conftest import emailed_password

AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# The page's Content-Security-Policy refuses inline scripts, so axe comes from a same-origin
# address that the browser context answers with the file (the server never sees it).
AXE_PATH = "/__e2e__/axe.min.js"
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    }
}

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
# The main flows run on both screens: `@ON_BOTH_SCREENS` before a test that uses `portal`.
ON_BOTH_SCREENS = pytest.mark.parametrize(
    "screen", [DESKTOP, PHONE], ids=["desktop", "phone"], indirect=True
)

WRONG_EMAILED_PASSWORD = "Пароль неверен или срок его действия истек"
CONSENT = "Даю согласие на обработку моих персональных данных"
CABINET = re.compile(r"/cabinet/$")
# A refused form is answered 422 on purpose (htmx swaps it in); Chromium logs every 4xx response
# to the console, so that one line is expected. Any other status still counts as an error.
REFUSED_FORM_LOG = re.compile(r"^Failed to load resource: .* status of 422 ")


def describe_violations(violations: list[dict]) -> str:
    """axe's violations one per line, with the offending elements indented below each."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} [{violation['impact']}] {violation['help']}")
        for node in violation["nodes"]:
            target = " ".join(map(str, node["target"]))
            summary = node["failureSummary"].replace("\n", " ")
            lines.append(f"    {target}\n        {node['html']}\n        {summary}")
    return "\n".join(lines)


class Portal:
    """One tab of a browser context: the subscriber's steps, and `audit()` for every page."""

    def __init__(self, page: Page, mailbox: list, javascript: bool = True):
        self.page = page
        self.mailbox = mailbox
        self.javascript = javascript
        self.console_errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))

    def _on_console(self, message) -> None:
        if message.type == "error" and not REFUSED_FORM_LOG.match(message.text):
            self.console_errors.append(f"{message.text} ({message.location.get('url')})")

    # --- checks ----------------------------------------------------------------------------

    def audit(self) -> None:
        """The page as shown now: no axe violations, nothing in the console, no sideways scroll.

        axe needs the page's JavaScript, so a tab without it gets the other two checks only;
        the same templates are audited with JavaScript on.
        """
        page = self.page
        if self.javascript:
            if not page.evaluate("typeof window.axe === 'object'"):
                page.add_script_tag(url=AXE_PATH)
            violations = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)[
                "violations"
            ]
            assert not violations, f"axe on {page.url}:\n{describe_violations(violations)}"
        assert not self.console_errors, f"console on {page.url}:\n" + "\n".join(self.console_errors)
        # clientWidth, not innerWidth: a mobile browser zooms out to fit a page that is too
        # wide, and innerWidth then grows with it.
        widths = page.evaluate(
            "({page: document.documentElement.scrollWidth,"
            " screen: document.documentElement.clientWidth})"
        )
        assert widths["page"] <= widths["screen"], f"sideways scroll on {page.url}: {widths}"

    def take_console_errors(self) -> list[str]:
        """The console errors so far, for a test that expects some; `audit()` starts afresh."""
        errors, self.console_errors = self.console_errors, []
        return errors

    def record_posts(self) -> list:
        """Every POST request the tab sends from now on, in order (Playwright's Request)."""
        posts = []
        self.page.on("request", lambda request: request.method == "POST" and posts.append(request))
        return posts

    def visit(self, path: str) -> None:
        """Open a page by its address and audit it."""
        self.page.goto(path)
        self.audit()

    def mark_document(self) -> None:
        """Leave a marker in this document; `document_survived()` tells if it is still there."""
        self.page.evaluate("window.e2eMarker = 'still here'")

    def document_survived(self) -> bool:
        """True when no page load replaced the document since `mark_document()`."""
        return self.page.evaluate("window.e2eMarker") == "still here"

    def field(self, label: str):
        """The text or password input of this accessible name (the «*» after it is hidden)."""
        return self.page.get_by_role("textbox", name=label, exact=True)

    # --- mail ------------------------------------------------------------------------------

    def password_from_mail(self, email_address: str) -> str:
        """The password in the latest mail the SMTP server received for this address."""
        mails = [mail for mail in self.mailbox if mail["To"] == email_address]
        assert mails, f"no mail to {email_address}"
        return emailed_password(mails[-1])

    # --- registration and login ------------------------------------------------------------

    def request_password(self, email_address: str) -> str:
        """Step 1 of registration: «Логин», «Получить пароль»; returns the emailed password."""
        page = self.page
        self.field("Логин").fill(email_address)
        page.get_by_role("button", name="Получить пароль").click()
        expect(self.field("Пароль")).to_be_visible()
        expect(self.field("Логин")).to_have_value(email_address)
        return self.password_from_mail(email_address)

    def enter_emailed_password(self, password: str) -> None:
        """Step 2: the password, the consent, «Зарегистрироваться»."""
        page = self.page
        self.field("Пароль").fill(password)
        page.get_by_role("checkbox", name=CONSENT).check()
        page.get_by_role("button", name="Зарегистрироваться").click()

    def register(self, email_address: str) -> str:
        """Register through both steps and land on the cabinet; returns the password."""
        self.visit("/register")
        password = self.request_password(email_address)
        self.enter_emailed_password(password)
        expect(self.page).to_have_url(CABINET)
        self.audit()
        return password

    def log_in(self, email_address: str, password: str) -> None:
        """Fill the login form on the page shown now and press «Войти»."""
        page = self.page
        self.field("Логин").fill(email_address)
        self.field("Пароль").fill(password)
        page.get_by_role("button", name="Войти").click()

    def change_password(self, current: str, new: str, again: str | None = None) -> None:
        """Fill «Сменить пароль» on the page shown now and press the button."""
        self.field("Текущий пароль").fill(current)
        self.field("Новый пароль").fill(new)
        self.field("Новый пароль еще раз").fill(new if again is None else again)
        self.page.get_by_role("button", name="Сменить пароль").click()

    def log_out(self) -> None:
        """«Выйти»: back to the start page, with no login in the header."""
        self.page.get_by_role("button", name="Выйти").click()
        expect(self.page.get_by_role("link", name="Войти в личный кабинет")).to_be_visible()
        expect(self.page.get_by_role("button", name="Выйти")).to_have_count(0)

    # --- accounts --------------------------------------------------------------------------

    def link_account(self, number: str, surname: str) -> None:
        """Fill «Лицевой счет» and «Фамилия владельца» on the link form and press «Привязать»."""
        page = self.page
        self.field("Лицевой счет").fill(number)
        self.field("Фамилия владельца").fill(surname)
        page.get_by_role("button", name="Привязать", exact=True).click()

    def account_rows(self):
        """The rows of the accounts table, header excluded."""
        return self.page.locator("#accounts-table tbody tr")

    # --- the cabinet's sections ------------------------------------------------------------

    def open_section(self, name: str) -> None:
        """Follow a link of the cabinet's menu «Разделы кабинета»."""
        self.page.get_by_role("navigation", name="Разделы кабинета").get_by_role(
            "link", name=name, exact=True
        ).click()

    def choose_account(self, number: str) -> None:
        """Pick the account in the selector at the top of a section and press «Показать»."""
        selector = self.page.locator("form.account-selector")
        selector.get_by_label("Лицевой счет").select_option(number)
        selector.get_by_role("button", name="Показать").click()

    def widget(self, title: str):
        """A widget of the cabinet's main page, by its title."""
        return self.page.get_by_role("region", name=title, exact=True)

    # --- meters ----------------------------------------------------------------------------

    def meter_card(self, service: str, serial: str):
        """The card of a meter in Приборы учета or on the meter's page."""
        return self.page.get_by_role("region", name=f"{service}, № {serial}", exact=True)

    def submit_readings(self, card, *values: str) -> None:
        """Type a value per zone into the meter's card and press «Передать показания»."""
        fields = card.get_by_role("textbox")
        expect(fields).to_have_count(len(values))
        for field, value in zip(fields.all(), values, strict=True):
            field.fill(value)
        card.get_by_role("button", name="Передать показания").click()
