"""The web app in a real browser: Debian's chromium driven by Playwright (never a downloaded
browser build), against the app served by uvicorn on a free port."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session, sessionmaker
from web_world import PASSWORD, USERS, build, serve

from onemind.store.db import make_engine, session_factory, upgrade
from onemind.store.models import Credential

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENS = os.environ.get("ONEMIND_WEB_SCREENS")  # a folder: save the README's screenshots there


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, sessionmaker[Session]]]:
    """The small world served on a free port: (base URL, sessions)."""
    from conftest import NOW

    folder = tmp_path_factory.mktemp("web")
    engine = make_engine(f"sqlite:///{folder / 'onemind.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    with serve(build(folder, sessions, NOW)) as base:
        yield base, sessions
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required in CI: apt-get install chromium")
        pytest.skip("no /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        found = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield found
        found.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def shoot(page: Any, name: str) -> None:
    if SCREENS:
        page.screenshot(path=str(Path(SCREENS) / f"web-{name}.png"), full_page=True)


@pytest.mark.parametrize("username", list(USERS))
def test_each_role_signs_in_and_sees_its_menu(page: Any, world: Any, username: str) -> None:
    base, _ = world
    sign_in(page, base, username)
    menu = page.get_by_role("navigation", name="Main").inner_text()
    role = USERS[username][0]
    assert ("Mapping" in menu) == (role in ("admin", "academy"))
    assert ("Certificates" in menu) == (role != "viewer")
    assert ("Users" in menu) == (role == "admin")
    rows = page.locator("tbody tr").count()
    assert rows == (1 if role == "agency" else 2)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/login")


def test_agency_user_gets_404_on_another_agency(page: Any, world: Any) -> None:
    base, _ = world
    sign_in(page, base, "coord")
    response = page.goto(f"{base}/agencies/b-pd")
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()


def test_record_an_attestation_and_see_the_mark(page: Any, world: Any, tmp_path: Path) -> None:
    base, _ = world
    evidence = tmp_path / "policy.pdf"
    evidence.write_bytes(b"%PDF-1.4\n%%EOF\n")
    sign_in(page, base, "bcoord")
    page.goto(f"{base}/agencies/b-pd")
    policy = page.locator('[data-requirement="policy"] .mark')
    assert policy.inner_text() == "✗"
    page.get_by_label("Requirement", exact=True).select_option("policy")
    page.get_by_label("Date", exact=True).fill("2026-10-01")
    page.get_by_label("Note", exact=True).fill("Council adopted the model policy")
    page.get_by_label("Evidence file").set_input_files(str(evidence))
    page.get_by_role("button", name="Record").click()
    expect(page.locator('[data-requirement="policy"] .mark')).to_have_text("✓")
    expect(page.get_by_role("link", name="policy.pdf")).to_be_visible()
    shoot(page, "agency")


def test_approve_a_mapping_from_the_queue(page: Any, world: Any) -> None:
    base, _ = world
    sign_in(page, base, "academy")
    page.goto(f"{base}/agencies/a-pd")
    assert page.locator(".badge").first.inner_text() != "complete"
    page.goto(f"{base}/mapping")
    shoot(page, "mapping")
    group = page.locator("section.group", has_text="State Crisis Academy")
    group.get_by_label("Category").select_option("crisis-equivalent")
    group.get_by_role("button", name="Preview").click()
    effect = group.locator(".effect")
    effect.wait_for()
    assert "Springfield Police Department becomes complete" in effect.inner_text()
    effect.get_by_role("button", name="Apply").click()
    expect(page.locator("main")).to_contain_text("Applied:")
    page.goto(f"{base}/agencies/a-pd")
    assert page.locator(".badge").first.inner_text() == "complete"


def test_public_verify_of_a_good_and_a_tampered_credential(page: Any, world: Any) -> None:
    base, sessions = world
    with sessions() as session:
        token = session.query(Credential.jwt).filter(Credential.status == "active").first()[0]
    page.goto(f"{base}/verify")
    page.get_by_label("Credential").fill(token)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="✓ Verified")).to_be_visible()
    shoot(page, "verify")
    head, payload, signature = token.split(".")
    tampered = f"{head}.{payload[:-2]}{'AA' if payload[-2:] != 'AA' else 'BB'}.{signature}"
    page.get_by_label("Credential").fill(tampered)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="✗ Does not verify")).to_be_visible()


LABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(c => !(c.labels && c.labels.length) && !c.getAttribute('aria-label'))
  .map(c => c.outerHTML)"""
CONTRAST = """() => {
  const rgb = s => s.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = c.map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const back = el => { while (el) { const c = getComputedStyle(el).backgroundColor;
    if (!c.startsWith('rgba(0, 0, 0, 0') && c !== 'transparent') return c; el = el.parentElement; }
    return 'rgb(255, 255, 255)'; };
  const low = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.childNodes.length || ![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || el.offsetParent === null) continue;
    const [a, b] = [lum(rgb(style.color)), lum(rgb(back(el)))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push(el.tagName + ' ' + ratio.toFixed(2) + ' ' + el.textContent.trim().slice(0, 30));
  }
  return low; }"""
PAGES = ["/", "/agencies/a-pd", "/mapping", "/runs", "/certificates", "/verify"]


@pytest.mark.parametrize("width", [1280, 390])
def test_pages_are_labelled_readable_and_fit_the_screen(
    browser: Any, world: Any, width: int
) -> None:
    base, _ = world
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, base, "admin")
    for path in PAGES:
        page.goto(base + path)
        assert page.evaluate(LABELLED) == [], path
        assert page.evaluate(CONTRAST) == [], path
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow} px wider than {width} px"
        if width == 1280 and path in ("/", "/runs"):
            shoot(page, "hub" if path == "/" else "runs")
        if width == 390 and path == "/agencies/a-pd":
            shoot(page, "agency-phone")
    context.close()


def test_keyboard_only_sign_in_and_skip_link(page: Any, world: Any) -> None:
    base, _ = world
    page.goto(f"{base}/verify")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.goto(f"{base}/login")
    # the username field takes the focus itself (autofocus), once the page has applied it
    page.wait_for_function("document.activeElement.id === 'username'")
    page.keyboard.type("viewer")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")
    assert page.get_by_role("heading", name="Agencies").is_visible()
