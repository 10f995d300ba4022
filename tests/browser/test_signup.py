"""The trial application: a sign-up stays pending until an admin approves it."""

import pytest

from tests.browser.lab import login

pytestmark = [pytest.mark.browser, pytest.mark.hub]


def test_signup_is_pending_until_the_admin_approves(hub, chromium_browser, artifacts):
    context = chromium_browser.new_context()
    page = context.new_page()
    page.set_default_timeout(60_000)

    page.goto(f"{hub.url}/hub/signup")
    page.fill("#username_input", "alice")
    page.fill("#password_input", "alice-pass-123")
    page.fill("#password_confirmation_input", "alice-pass-123")
    page.click("#signup_submit")
    page.wait_for_selector("text=Your information has been sent to the admin")

    login(page, hub, "alice", "alice-pass-123")
    page.wait_for_selector("text=has not been authorized by an administrator yet")
    page.screenshot(path=artifacts / "signup-pending.png")

    admin = chromium_browser.new_context()
    admin_page = admin.new_page()
    login(admin_page, hub, "admin")
    # the hub's pages, or the admin's own server if another test started it already
    admin_page.wait_for_url(lambda url: "/hub/login" not in url)
    admin_page.goto(f"{hub.url}/hub/authorize")
    row = admin_page.locator("tr#alice")
    assert "No" in row.inner_text()
    admin_page.screenshot(path=artifacts / "signup-authorize-page.png")
    # approval is the page's form (a POST with the XSRF token): the button submits it
    row.get_by_role("button", name="Authorize").click()
    admin_page.wait_for_selector("tr#alice.success")
    admin_page.screenshot(path=artifacts / "signup-approved.png")
    admin.close()

    context.clear_cookies()
    login(page, hub, "alice", "alice-pass-123")
    page.wait_for_url(lambda url: "/hub/login" not in url)
    assert "has not been authorized" not in page.content()
    context.close()


def test_a_user_cannot_approve_sign_ups(hub, chromium_browser):
    context = chromium_browser.new_context()
    page = context.new_page()
    login(page, hub, "demo")
    page.wait_for_url(lambda url: "/hub/login" not in url, timeout=120_000)
    response = page.goto(f"{hub.url}/hub/authorize")
    assert response.status == 403
    context.close()
