"""The admin console in a real browser: Playwright drives Debian's chromium (installed by deploy/bootstrap.sh; no
browser is downloaded) against one `make run` of the five services and the console, shared by the module.

Signed in as admin, viewer and prefecture user, the tests show what the office sees and does; each page's
screenshot at 1280×800 is saved into docs/screenshots/ (the README shows the dashboard's).
"""

from __future__ import annotations

import re
import uuid
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import httpx
import openpyxl
import pytest

from pbkit.testing import REPO_ROOT, require, wait_until
from tests.conftest import Api, EmbeddedRun, Stack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
STAFF_PASSWORD = "console-test-passw0rd-" + uuid.uuid4().hex[:8]
PROGRAM = "gz-2021-2023"
YEAR = 2023
CONFIRM = re.compile("^确\\s*认$")  # Ant Design spaces out a two-character button's label



@pytest.fixture(scope="module", autouse=True)
def _chromium() -> None:
    require(CHROMIUM.exists(), "Debian's chromium is not installed (deploy/bootstrap.sh installs it)")


class Console:
    def __init__(self, run: EmbeddedRun):
        self.url = run.console_url
        self.stack = Stack(urls=run.urls)
        self.admin = Api(self.stack, self.stack.token())

    def staff(self, role: str, prefecture_code: str | None = None) -> str:
        username = f"{role}-{uuid.uuid4().hex[:6]}"
        body = {"username": username, "display_name": f"测试{role}", "role": role, "password": STAFF_PASSWORD,
                "prefecture_code": prefecture_code}
        self.admin.post("registry", "/api/v1/users", json=body, expect=201)
        return username


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    run = EmbeddedRun(tmp_path_factory.mktemp("console") / "var")
    run.var_dir.mkdir()
    run.start()
    yield Console(run)
    run.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def world(console):
    """Organizations and patents of a story: a university transfers to an SME; a patent of its is pledged."""
    admin = console.admin
    university = admin.organization("贵州大学", "university", "520102")
    sme = admin.organization("遵义智造科技有限公司", "enterprise", "520302", size="small", industry="big_data_electronics")
    bank_org = admin.organization("贵阳银行", "bank", "520102")
    patents = [admin.patent([university], title=f"一种数据处理方法{i}") for i in range(3)]
    admin.post("pledge", "/api/v1/pledges", expect=201, json={
        "pledgor_id": university, "pledgee_id": bank_org, "patent_numbers": [patents[2]], "amount": "1000000.00",
        "registered_on": "2023-02-01", "term_start": "2023-02-01", "term_end": "2025-01-31"})
    wait_until(lambda: admin.get("registry", f"/api/v1/patents/{patents[2]}").json().get("pledged") is True,
               timeout_s=60, message="the registry to learn of the pledge")
    return {"university": university, "sme": sme, "bank": bank_org, "patents": patents}


class Session:
    """One signed-in browser context; every console error is kept (a refused request's 4xx log line aside)."""

    def __init__(self, browser, console: Console):
        self.context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", accept_downloads=True)
        self.page = self.context.new_page()
        self.console = console
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("console", self._console_message)

    def _console_message(self, message) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(message.text)

    def sign_in(self, username: str, password: str = STAFF_PASSWORD) -> None:
        page = self.page
        page.goto(self.console.url + "/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name=re.compile("登\\s*录")).click()

    def open(self, path: str) -> None:
        self.page.goto(self.console.url + path)

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        self.page.evaluate("window.scrollTo(0, 0)")
        try:  # a table still loading is dimmed under its spinner; a page still loading after 5 s is shot as it is
            self.page.wait_for_function("!document.querySelector('.ant-spin-spinning')", timeout=5000)
            self.page.wait_for_timeout(300)  # the spinner's fade-out
        except PlaywrightTimeout:
            pass
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], f"errors in the browser console: {self.errors}"


@pytest.fixture
def session_of(browser, console):
    opened: list[Session] = []

    def make() -> Session:
        opened.append(Session(browser, console))
        return opened[-1]

    yield make
    for s in opened:
        s.close()


@pytest.fixture(scope="module")
def admin_username(console) -> str:
    return console.staff("admin")


def submit_deal(console: Console, world, patent: str, amount: str = "800000.00") -> str:
    body = {"kind": "transfer", "patent_numbers": [patent], "transferor_ids": [world["university"]],
            "transferee_id": world["sme"], "contract_date": "2023-03-01", "contract_amount": amount}
    return console.admin.post("transactions", "/api/v1/deals", json=body, expect=201).json()["id"]


def progress(console: Console) -> dict:
    return console.admin.get("metrics", f"/api/v1/programs/{PROGRAM}/progress?year={YEAR}", expect=200).json()


def grouped(value) -> str:  # noqa: ANN001
    whole, dot, fraction = str(value).partition(".")
    return f"{int(whole):,}{dot}{fraction}" if whole.lstrip("-").isdigit() else str(value)


def shown(unit: str, value) -> str:  # noqa: ANN001
    """What an indicator's card should read: a rate or ratio as a percentage of 2 places, money in yuan, a count (or
    a unit the console does not know) grouped."""
    if value is None:
        return "—"
    if unit in ("rate", "ratio"):
        return f"{(Decimal(str(value)) * 100).quantize(Decimal('0.01'), ROUND_HALF_UP)}%"
    if unit == "yuan":
        return f"{grouped(value)} 元"
    return grouped(value)


def open_dashboard(s: Session) -> None:
    s.open("/")
    page = s.page
    page.get_by_test_id("indicator-sme_inbound_patents").wait_for()
    page.get_by_label("年度").click()
    page.locator(f".ant-select-item-option[title='{YEAR} 年']").click()


def test_the_dashboard_shows_the_metrics_numbers_and_a_recording_from_the_queue_within_seconds(
        session_of, console, world, admin_username):
    from playwright.sync_api import expect

    s = session_of()
    s.sign_in(admin_username)
    expect(s.page.get_by_test_id("whoami")).to_contain_text("管理员")
    open_dashboard(s)
    api = progress(console)
    for indicator in api["indicators"]:
        card = s.page.get_by_test_id(f"indicator-{indicator['id']}")
        expect(card).to_have_attribute("data-actual", str(indicator["actual"] if indicator["actual"] is not None else ""))
        expect(card).to_have_attribute("data-met", "true" if indicator["met"] else "false")
        expect(card.get_by_test_id("actual")).to_have_text(shown(indicator["unit"], indicator["actual"]))
        if indicator["floor"] is None and indicator["growth_target"] is None:
            expect(card.get_by_test_id("status")).to_have_text("无目标")
    s.page.get_by_test_id("trend-chart").wait_for()
    s.shot("dashboard")
    before = next(i["actual"] for i in api["indicators"] if i["id"] == "sme_inbound_patents")

    deal = submit_deal(console, world, world["patents"][0])
    s.open("/queues")
    s.page.get_by_test_id(f"record-{deal}").click()
    dialog = s.page.get_by_role("dialog")
    dialog.get_by_label("登记日期").fill(f"{YEAR}-06-01")
    s.shot("queues-record-dialog")
    dialog.get_by_role("button", name=CONFIRM).click()
    expect(s.page.get_by_test_id(f"record-{deal}")).to_have_count(0)
    s.shot("queues")

    open_dashboard(s)
    expect(s.page.get_by_test_id("indicator-sme_inbound_patents")).to_have_attribute(
        "data-actual", str(before + 1), timeout=15_000)
    assert next(i["actual"] for i in progress(console)["indicators"] if i["id"] == "sme_inbound_patents") == before + 1

    s.open(f"/deals/{deal}")
    expect(s.page.get_by_text("已登记").first).to_be_visible()
    s.shot("deal-detail")


def test_a_rate_indicator_reads_as_a_percentage_and_an_unknown_unit_does_not_break_the_dashboard(
        session_of, console, admin_username):
    """The metrics service's own progress, with two indicators added on the way to the browser: one of unit `rate`
    (CONTRACT §9: a decimal string of 4 places) and one of a unit the console has never heard of."""
    import json

    from playwright.sync_api import expect

    added = [
        {"id": "browser_test_rate", "name": "测试转化率", "unit": "rate", "period": "annual", "actual": "0.1250",
         "previous": "0.1000", "floor": "0.1000", "growth": "0.2500", "growth_target": None, "floor_met": True,
         "growth_met": None, "met": True},
        {"id": "browser_test_unknown", "name": "测试未知单位", "unit": "hectares", "period": "annual",
         "actual": "1234567.5678", "previous": None, "floor": None, "growth": None, "growth_target": None,
         "floor_met": None, "growth_met": None, "met": True},
    ]

    def with_added(route) -> None:  # noqa: ANN001
        answer = route.fetch()
        body = answer.json()
        body["indicators"] = body["indicators"] + added
        route.fulfill(response=answer, body=json.dumps(body))

    s = session_of()
    s.page.route(re.compile(r".*/api/metrics/programs/[^/]+/progress\?.*"), with_added)
    s.sign_in(admin_username)
    s.page.get_by_test_id("whoami").wait_for()
    open_dashboard(s)
    rate = s.page.get_by_test_id("indicator-browser_test_rate")
    expect(rate.get_by_test_id("actual")).to_have_text("12.50%")
    expect(rate).to_contain_text("底线 10.00%")
    expect(rate).to_contain_text("增长 25.00%")
    expect(s.page.get_by_test_id("indicator-browser_test_unknown").get_by_test_id("actual")).to_have_text("1,234,567.5678")
    rate.click()  # its trend and breakdown (which the metrics service does not know: a 404, shown as a warning)
    s.page.get_by_test_id("trend-chart").wait_for()
    expect(s.page.get_by_text("测试转化率 · 三年趋势")).to_be_visible()
    overflow = s.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the dashboard is {overflow} px wider than the window"
    s.page.unroute_all(behavior="wait")  # the dashboard polls: let a progress in flight finish before the page closes


def test_a_refused_recording_shows_its_reason(session_of, console, world, admin_username):
    from playwright.sync_api import expect

    deal = submit_deal(console, world, world["patents"][2])  # pledged, and no pledgee consent
    s = session_of()
    s.sign_in(admin_username)
    s.page.get_by_test_id("whoami").wait_for()
    s.open("/queues")
    s.page.get_by_test_id(f"record-{deal}").click()
    dialog = s.page.get_by_role("dialog")
    dialog.get_by_label("登记日期").fill(f"{YEAR}-06-02")
    dialog.get_by_role("button", name=CONFIRM).click()
    refused = dialog.get_by_test_id("action-error")
    expect(refused).to_contain_text(re.compile("pledge|质押", re.IGNORECASE))
    answer = console.admin.post("transactions", f"/api/v1/deals/{deal}/record", json={"recorded_on": f"{YEAR}-06-02"})
    assert answer.status_code == 409
    expect(refused).to_contain_text(answer.json()["detail"])
    expect(refused).to_contain_text("与现有记录冲突，未作任何更改")  # what a 409 means, in Chinese, before the detail
    s.shot("queues-refused")
    assert console.admin.get("transactions", f"/api/v1/deals/{deal}").json()["status"] == "submitted"


def test_a_new_bank_clients_secret_is_shown_once(session_of, console, world, admin_username):
    from playwright.sync_api import expect

    s = session_of()
    s.sign_in(admin_username)
    s.page.get_by_test_id("whoami").wait_for()
    s.open("/admin")
    s.page.get_by_role("tab", name="API 客户端").click()
    pane = s.page.get_by_test_id("clients-pane")
    pane.get_by_label("名称").fill("贵阳银行直连")
    pane.locator(".ant-form-item", has_text="角色").locator(".ant-select").click()
    s.page.locator(".ant-select-item-option[title='银行']").click()
    pane.get_by_label("所属机构 ID").fill(world["bank"])
    pane.get_by_role("button", name=re.compile("创\\s*建")).click()
    secret_box = s.page.get_by_test_id("new-client-secret")
    expect(secret_box).to_be_visible()
    secret = secret_box.input_value()
    client_id = s.page.get_by_test_id("new-client-id").inner_text()
    assert len(secret) >= 16
    s.shot("admin-client-secret")
    token = httpx.post(console.stack.urls["registry"] + "/api/v1/auth/token", timeout=10, data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
    assert token.status_code == 200
    s.page.get_by_role("button", name="我已保存").click()
    expect(pane.get_by_text(client_id)).to_be_visible()
    s.page.reload()
    s.page.get_by_role("tab", name="API 客户端").click()
    expect(s.page.get_by_text(client_id)).to_be_visible()
    assert secret not in s.page.content()
    s.shot("admin-clients")
    for tab, name in (("工作人员", "admin-users"), ("计划目标与基数", "admin-targets"), ("审计日志", "admin-audit")):
        s.page.get_by_role("tab", name=tab).click()
        s.page.get_by_test_id(f"{name}-pane").locator(".ant-table-row").first.wait_for()
        s.shot(name)
    s.page.get_by_role("tab", name="指标重建").click()
    s.page.get_by_test_id("start-rebuild").click()
    s.page.get_by_role("dialog").get_by_role("button", name=CONFIRM).click()
    expect(s.page.get_by_test_id("rebuild-status")).to_contain_text("已应用事件")
    s.shot("admin-rebuild")


def test_the_xlsx_report_downloads_and_opens(session_of, console, admin_username, tmp_path):
    s = session_of()
    s.sign_in(admin_username)
    s.page.get_by_test_id("whoami").wait_for()
    s.open("/reports")
    s.page.get_by_test_id("download-xlsx").wait_for()
    s.shot("reports")
    with s.page.expect_download() as download:
        s.page.get_by_test_id("download-xlsx").click()
    saved = tmp_path / "report.xlsx"
    download.value.save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert cells, "the workbook is empty"
    assert any(re.search("[\u4e00-\u9fff]", c) for c in cells), "the report has Chinese headings"


def test_search_and_detail_pages(session_of, console, world, admin_username):
    from playwright.sync_api import expect

    s = session_of()
    s.sign_in(admin_username)
    s.page.get_by_test_id("whoami").wait_for()
    for path, text, name in (("/organizations", "贵州大学", "organizations"),
                             (f"/organizations/{world['university']}", "年度报告", "organization-detail"),
                             ("/patents", world["patents"][0], "patents"),
                             (f"/patents/{world['patents'][0]}", "权属变更时间线", "patent-detail"),
                             ("/deals", "交易", "deals")):
        s.open(path)
        expect(s.page.get_by_text(text).first).to_be_visible()
        s.shot(name)
    s.open("/organizations/01900000-0000-7000-8000-000000000000")
    expect(s.page.get_by_text("不存在").first).to_be_visible()


TEA = "一种茶叶杀青温度控制装置"
COOLING = "一种数据中心液冷散热方法"


@pytest.fixture(scope="module")
def offers(console, world):
    """Two open licences of the university, declared as its platform would: a one-time fee for a tea-processing
    patent, an annual fee for a cooling patent."""
    admin = console.admin
    contact = {"name": "贵州大学技术转移中心", "phone": "0851-83620000"}
    tea, cooling = admin.patent([world["university"]], title=TEA), admin.patent([world["university"]], title=COOLING)
    declared = {}
    for key, number, fee, industry, description in (
            ("tea", tea, {"basis": "one_time", "amount": "30000.00"}, "ecological_food", "适用于茶叶加工企业的智能温度控制"),
            ("cooling", cooling, {"basis": "annual", "amount": "5000.00"}, "big_data_electronics", "数据中心服务器液冷散热")):
        declared[key] = admin.post("market", "/api/v1/open-licences", expect=201, json={
            "patent_numbers": [number], "declarant_ids": [world["university"]], "fee": fee, "term_years": 2,
            "contact": contact, "description": description, "industry": industry}).json()
    return declared


def catalogue_ids(console: Console, **params: str) -> set[str]:
    page = console.admin.get("market", "/api/v1/open-licences", params=params | {"limit": "500"}, expect=200).json()
    return {item["id"] for item in page["items"]}


def shows_the_catalogue(s: Session, console: Console, **params: str) -> set[str]:
    """The declarations the page lists, once they are the ones the market lists for the same filters."""
    wanted = catalogue_ids(console, **params)
    rows = s.page.get_by_test_id("catalogue").locator("tr[data-testid^='declaration-']")
    wait_until(lambda: {row.get_attribute("data-testid").removeprefix("declaration-") for row in rows.all()} == wanted,
               timeout_s=10, message=f"the page to list the catalogue of {params or 'no filter'}: {wanted}")
    return wanted


def search_catalogue(s: Session, **fields: str) -> None:
    filters = s.page.get_by_test_id("catalogue-filters")
    for name, value in fields.items():
        filters.get_by_label(name).fill(value)
    filters.get_by_test_id("catalogue-search").click()


def pick(s: Session, scope, item: str, option: str) -> None:  # noqa: ANN001
    scope.locator(".ant-form-item", has_text=item).locator(".ant-select").click()
    s.page.locator(".ant-select-dropdown:visible .ant-select-item-option", has_text=option).first.click()


def test_the_open_licence_catalogue_filters_and_an_admin_takes_a_licence_for_an_sme_and_withdraws_one(
        session_of, console, world, offers, admin_username):
    from playwright.sync_api import expect

    tea, cooling = offers["tea"], offers["cooling"]
    s = session_of()
    s.sign_in(admin_username)
    s.page.get_by_test_id("whoami").wait_for()
    s.page.get_by_role("link", name="开放许可").click()
    row = s.page.get_by_test_id(f"declaration-{tea['id']}")
    expect(row).to_contain_text(TEA)
    for text in ("生态特色食品", "G06F 16/27", "高校", "贵阳市", "一次性支付 30,000.00 元", "2 年", "有效"):
        expect(row).to_contain_text(text)
    expect(s.page.get_by_test_id(f"declaration-{cooling['id']}")).to_contain_text("按年支付 5,000.00 元/年")
    shows_the_catalogue(s, console)

    search_catalogue(s, 全文检索="茶叶 温度")  # Chinese full text: every word of the query
    expect(s.page.get_by_test_id(f"declaration-{cooling['id']}")).to_have_count(0)
    assert tea["id"] in shows_the_catalogue(s, console, q="茶叶 温度")
    search_catalogue(s, 全文检索="", 最高许可费="10000")  # fee due on acceptance at most 10,000.00
    expect(s.page.get_by_test_id(f"declaration-{tea['id']}")).to_have_count(0)
    assert cooling["id"] in shows_the_catalogue(s, console, fee_max="10000")
    pick(s, s.page.get_by_test_id("catalogue-filters"), "付费方式", "一次性支付")
    search_catalogue(s, 最高许可费="")
    assert tea["id"] in shows_the_catalogue(s, console, fee_basis="one_time")
    search_catalogue(s, **{"IPC 分类": "H04L"})
    expect(s.page.get_by_test_id("catalogue")).to_contain_text("没有符合条件的开放许可")
    search_catalogue(s, **{"IPC 分类": "不是分类"})  # the market refuses the filter; its reason shows at the field
    expect(s.page.get_by_test_id("catalogue-error")).to_contain_text("输入有误，未作任何更改")
    expect(s.page.get_by_test_id("catalogue-filters").locator(".ant-form-item-explain-error")).to_contain_text("IPC")
    s.page.get_by_role("button", name=re.compile("重\\s*置")).click()
    expect(s.page.get_by_test_id(f"declaration-{cooling['id']}")).to_be_visible()
    s.shot("open-licences")

    s.page.get_by_test_id(f"accept-{tea['id']}").click()
    dialog = s.page.get_by_role("dialog")
    expect(dialog).to_contain_text("接受时应付 30,000.00 元")
    pick(s, dialog, "被许可企业", "遵义智造科技有限公司")
    s.shot("open-licence-accept-dialog")
    dialog.get_by_role("button", name=CONFIRM).click()
    result = s.page.get_by_test_id("acceptance-result")
    expect(result).to_contain_text("已为 遵义智造科技有限公司 接受开放许可")
    expect(result).to_contain_text("30,000.00 元")
    taken = console.admin.get("market", f"/api/v1/open-licences/{tea['id']}/acceptances", expect=200).json()["items"]
    assert [(a["licensee_id"], a["fee_due"]) for a in taken] == [(world["sme"], "30000.00")]
    expect(result.get_by_role("link", name=taken[0]["deal_id"])).to_be_visible()
    deal = console.admin.get("transactions", f"/api/v1/deals/{taken[0]['deal_id']}", expect=200).json()
    assert (deal["kind"], deal["license_type"], deal["status"], deal["transferee_id"]) == (
        "license", "open", "submitted", world["sme"])
    row.locator(".ant-table-row-expand-icon").click()
    expect(s.page.get_by_test_id(f"acceptances-{tea['id']}")).to_contain_text("遵义智造科技有限公司")
    s.shot("open-licence-acceptance")

    s.page.get_by_test_id(f"withdraw-{cooling['id']}").click()
    s.page.get_by_role("dialog").get_by_role("button", name=CONFIRM).click()
    expect(s.page.get_by_test_id(f"declaration-{cooling['id']}")).to_have_count(0)
    assert console.admin.get("market", f"/api/v1/open-licences/{cooling['id']}", expect=200).json()["status"] == "withdrawn"
    pick(s, s.page.get_by_test_id("catalogue-filters"), "状态", "已撤回")
    search_catalogue(s)
    expect(s.page.get_by_test_id(f"declaration-{cooling['id']}")).to_contain_text("已撤回")
    expect(s.page.get_by_test_id(f"withdraw-{cooling['id']}")).to_have_count(0)
    overflow = s.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the catalogue is {overflow} px wider than the window"

    s.open(f"/deals/{taken[0]['deal_id']}")  # the licence's deal, waiting to be recorded as any deal
    expect(s.page.get_by_text("许可（开放许可）").first).to_be_visible()
    expect(s.page.get_by_text("待登记").first).to_be_visible()

    # The market's audit log, in the office's words: Chinese actions and readable details, never the raw codes.
    s.open("/admin")
    s.page.get_by_role("tab", name="审计日志").click()
    pane = s.page.get_by_test_id("admin-audit-pane")
    pane.locator(".ant-select").click()
    s.page.locator(".ant-select-item-option", has_text="市场服务").click()
    s.page.locator(".ant-select-dropdown").wait_for(state="hidden")
    accepted_entry = pane.locator(".ant-table-row", has_text="接受开放许可")
    expect(accepted_entry).to_contain_text("被许可企业：" + world["sme"])
    expect(accepted_entry).to_contain_text("交易：" + taken[0]["deal_id"])
    expect(pane.locator(".ant-table-row", has_text="撤回开放许可")).to_contain_text(cooling["id"])
    actions = pane.get_by_test_id("audit-action").all_inner_texts()
    assert actions and not [a for a in actions if re.fullmatch("[a-z_.]+", a)], actions
    s.shot("admin-audit-market")


def test_a_demand_posted_in_the_console_shows_its_matches_and_why_they_matched(
        session_of, console, world, offers, admin_username):
    from playwright.sync_api import expect

    title = f"寻求茶叶杀青温度自动控制技术{uuid.uuid4().hex[:4]}"
    s = session_of()
    s.sign_in(admin_username)
    s.page.get_by_test_id("whoami").wait_for()
    s.page.get_by_role("link", name="技术需求").click()
    s.page.get_by_test_id("post-demand").click()
    dialog = s.page.get_by_role("dialog")
    pick(s, dialog, "需求企业", "遵义智造科技有限公司")
    dialog.get_by_label("需求名称").fill(title)
    dialog.get_by_label("需求描述").fill("茶叶加工厂需要杀青环节的温度自动控制，提高茶叶品质")
    dialog.get_by_label("IPC 分类").fill("G06F")
    dialog.get_by_label("IPC 分类").press("Enter")
    pick(s, dialog, "行业", "生态特色食品")
    pick(s, dialog, "实施地市州", "遵义市")
    dialog.get_by_label("预算上限").fill("50000.00")
    s.shot("demand-post-dialog")
    dialog.get_by_role("button", name=CONFIRM).click()
    s.page.get_by_test_id("demands").get_by_role("link", name=title).wait_for()
    posted = [d for d in console.admin.get("market", "/api/v1/demands", params={"limit": "500"}, expect=200).json()["items"]
              if d["title"] == title]
    assert [(d["sme_id"], d["ipc"], d["budget"]["max"], d["prefecture_code"]) for d in posted] == [
        (world["sme"], ["G06F"], "50000.00", "520300")]
    s.shot("demands")

    s.page.get_by_test_id("demands").get_by_role("link", name=title).click()
    number = offers["tea"]["patent_numbers"][0]
    match = s.page.get_by_test_id(f"match-{number}")
    expect(match).to_be_visible(timeout=30_000)  # the market's matching job ranks it off the request path
    kept = console.admin.get("market", f"/api/v1/demands/{posted[0]['id']}/matches", expect=200).json()["items"]
    tea = next(m for m in kept if m["patent_number"] == number)
    assert tea["kind"] == "open_licence" and tea["reasons"]["fee_within_budget"] is True and tea["reasons"]["shared_terms"]
    cells = match.locator("td")
    expect(cells.nth(0)).to_have_text(str(tea["rank"]))
    expect(match).to_contain_text(TEA)
    expect(match).to_contain_text("开放许可")
    expect(match).to_contain_text("许可费在预算内")
    for term in tea["reasons"]["shared_terms"]:
        expect(match).to_contain_text(term)
    for symbol in tea["reasons"]["shared_ipc"]:
        expect(match).to_contain_text(symbol)
    expect(s.page.get_by_test_id("matches").locator("tr[data-testid^='match-']")).to_have_count(len(kept))
    s.shot("demand-matches")
    overflow = s.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the demand's page is {overflow} px wider than the window"

    match.get_by_role("link", name=number).click()  # the patent's page names the demands it matched
    expect(s.page.get_by_test_id("patent-demands").get_by_role("link", name=title)).to_be_visible()


def test_a_viewer_sees_no_write_controls_and_a_forged_write_gets_403(session_of, console, world, offers):
    from playwright.sync_api import expect

    deal = submit_deal(console, world, world["patents"][1])
    s = session_of()
    s.sign_in(console.staff("viewer"))
    expect(s.page.get_by_test_id("whoami")).to_contain_text("只读用户")
    expect(s.page.get_by_role("link", name="系统管理")).to_have_count(0)
    s.open("/queues")
    s.page.get_by_test_id("deal-queue").locator(f"a[href='/deals/{deal}']").wait_for()
    expect(s.page.get_by_test_id(f"record-{deal}")).to_have_count(0)
    expect(s.page.get_by_role("button", name="登记")).to_have_count(0)
    s.shot("viewer-queues")
    s.open("/open-licences")
    s.page.get_by_test_id("catalogue").locator("tr[data-testid^='declaration-']").first.wait_for()
    expect(s.page.get_by_text("接受许可")).to_have_count(0)
    expect(s.page.get_by_role("button", name="撤回")).to_have_count(0)
    s.open("/demands")
    s.page.get_by_test_id("demands").wait_for()
    expect(s.page.get_by_test_id("post-demand")).to_have_count(0)
    forged = s.page.evaluate("""async (deal) => {
        const session = await (await fetch('/console/api/session')).json();
        const post = (headers) => fetch(`/api/transactions/deals/${deal}/record`, {method: 'POST',
            headers: {'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID(), ...headers},
            body: JSON.stringify({recorded_on: '2023-06-03'})});
        const withToken = await post({'X-CSRF-Token': session.csrf_token});
        const without = await post({});
        return {withToken: withToken.status, type: withToken.headers.get('content-type'), without: without.status};
    }""", deal)
    assert forged == {"withToken": 403, "type": "application/problem+json", "without": 403}
    assert console.admin.get("transactions", f"/api/v1/deals/{deal}").json()["status"] == "submitted"


def test_a_prefecture_user_cannot_open_another_prefectures_records_even_by_url(session_of, console, world, offers):
    """A user of 遵义 (520300) sees its SME; the university (贵阳) and its patents do not exist for it, in the
    lists or by their URLs, since every service scopes its reads (the console hides nothing on its own)."""
    from playwright.sync_api import expect

    s = session_of()
    s.sign_in(console.staff("prefecture", prefecture_code="520300"))
    expect(s.page.get_by_test_id("whoami")).to_contain_text("遵义市")
    expect(s.page.get_by_role("link", name="系统管理")).to_have_count(0)
    s.open(f"/organizations/{world['sme']}")
    expect(s.page.get_by_text("遵义智造科技有限公司").first).to_be_visible()
    s.shot("prefecture-organization")
    for path in (f"/organizations/{world['university']}", f"/patents/{world['patents'][2]}"):  # the pledged one stays 贵阳's
        s.open(path)
        expect(s.page.get_by_text("不存在").first).to_be_visible()
    s.open("/organizations")
    expect(s.page.get_by_text("遵义智造科技有限公司").first).to_be_visible()
    expect(s.page.get_by_text("贵州大学")).to_have_count(0)
    # The catalogue is public to every role; a prefecture user's opens on its own prefecture, without write controls.
    s.open("/open-licences")
    expect(s.page.get_by_test_id("catalogue-filters").locator(".ant-form-item", has_text="市州")).to_contain_text("遵义市")
    expect(s.page.get_by_test_id("catalogue")).to_contain_text("没有符合条件的开放许可")  # both offers are 贵阳's
    expect(s.page.get_by_text("接受许可")).to_have_count(0)
    through_proxy = s.page.evaluate("""async (org) => (await fetch(`/api/registry/organizations/${org}`)).status""",
                                    world["university"])
    assert through_proxy == 404


def test_five_wrong_passwords_lock_the_account_and_an_admin_unlocks_it(session_of, console, admin_username):
    from playwright.sync_api import expect

    username = console.staff("viewer")
    s = session_of()
    s.open("/")
    s.shot("login")
    for _ in range(5):
        s.sign_in(username, "a-wrong-password-123")
        expect(s.page.get_by_test_id("login-error")).to_be_visible()
    s.sign_in(username)  # the right password, but the account is locked
    expect(s.page.get_by_test_id("login-error")).to_contain_text(re.compile("lock", re.IGNORECASE))
    expect(s.page.get_by_test_id("login-error")).to_contain_text("账户已锁定")
    s.shot("login-locked")

    a = session_of()
    a.sign_in(admin_username)
    a.page.get_by_test_id("whoami").wait_for()
    a.open("/admin")
    expect(a.page.get_by_test_id(f"locked-{username}")).to_be_visible()
    a.page.get_by_test_id(f"unlock-{username}").click()
    a.page.get_by_role("dialog").get_by_role("button", name=CONFIRM).click()
    expect(a.page.get_by_test_id(f"locked-{username}")).to_have_count(0)

    s.sign_in(username)
    expect(s.page.get_by_test_id("whoami")).to_contain_text("只读用户")


def test_signing_in_works_from_the_keyboard_and_the_dashboard_fits_1280_and_1920(session_of, console, admin_username):
    """No mouse: the username field has the focus or is reached by Tab, Tab moves to the password, Enter
    signs in. At both widths the dashboard has no horizontal scrollbar."""
    from playwright.sync_api import expect

    s = session_of()
    s.open("/")
    username = s.page.get_by_label("用户名")
    username.focus()
    s.page.keyboard.type(admin_username)
    s.page.keyboard.press("Tab")
    expect(s.page.get_by_label("密码")).to_be_focused()
    s.page.keyboard.type(STAFF_PASSWORD)
    s.page.keyboard.press("Enter")
    expect(s.page.get_by_test_id("whoami")).to_contain_text("管理员")
    for width, height in ((1280, 800), (1920, 1080)):
        s.page.set_viewport_size({"width": width, "height": height})
        open_dashboard(s)
        s.page.get_by_test_id("trend-chart").wait_for()
        overflow = s.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the dashboard is {overflow} px wider than a {width}-wide window"
    s.shot("dashboard-1920")
