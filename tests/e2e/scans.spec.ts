import { expect, test, type Page } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";

// The observe story on the demo project: a warehouse's details and edit, a scan's advanced settings,
// runs, the job history, a replay and the per-scan charts. Runs after plan.spec.ts (same instance).
test.describe.configure({ mode: "serial" });

const SHOTS = path.resolve(__dirname, "screenshots");
const OWNER = { name: "Olivia Owner", email: "olivia@example.com", password: "correct-horse-42" };

fs.mkdirSync(SHOTS, { recursive: true });

async function shot(page: Page, name: string) {
  await page.waitForLoadState("networkidle");
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

function sameSite(page: Page) {
  return { Origin: new URL(page.url()).origin };
}

async function setTheme(page: Page, theme: "light" | "dark") {
  const toggle = page.getByRole("button", { name: /theme/ });
  const dark = (await toggle.getAttribute("aria-pressed")) === "true";
  if (dark !== (theme === "dark")) await toggle.click();
}

/** A datetime-local input's value for `hoursAgo` hours before now (the browser shares this machine's zone). */
function localInput(hoursAgo: number): string {
  const d = new Date(Date.now() - hoursAgo * 3600 * 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

test.describe("warehouses and scans in the browser", () => {
  let page: Page;
  let slug = "";

  test.beforeAll(async ({ browser }) => {
    page = await browser.newPage();
    await page.goto("/login");
    // Alone (not after plan.spec.ts) the instance is empty: the first registration makes the owner.
    await page.request.post("/api/v1/auth/register", { headers: sameSite(page), data: OWNER });
    await page.goto("/login");
    if (page.url().includes("/login")) {
      await page.getByLabel("Email").fill(OWNER.email);
      await page.getByLabel("Password").fill(OWNER.password);
      await page.getByRole("button", { name: "Sign in" }).click();
    }
    await expect(page.getByRole("heading", { name: "Projects", exact: true })).toBeVisible();
    const demo = await page.request.post("/api/v1/projects/demo", { headers: sameSite(page), timeout: 120_000 });
    expect(demo.status()).toBe(201);
    slug = (await demo.json()).slug;
  });

  test.afterAll(async () => {
    await page.close();
  });

  test("the owner opens a warehouse's health, usage and schema", async () => {
    await page.goto("/data-sources");
    const row = page.getByRole("row", { name: new RegExp(`Demo warehouse ${slug}`) });
    await expect(row.getByText("untested")).toBeVisible();
    await row.getByRole("button", { name: "Test" }).click();
    await expect(page.getByText(/^Connected/)).toBeVisible();
    await expect(row.getByText("healthy")).toBeVisible();

    await row.getByRole("button", { name: `Demo warehouse ${slug}` }).click();
    const dialog = page.getByRole("dialog", { name: `Data source Demo warehouse ${slug}` });
    await expect(dialog.getByText("Events tracked")).toBeVisible();
    await expect(dialog.getByRole("img", { name: /Throughput over 168 hours/ })).toBeVisible();
    await expect(dialog.getByText("events", { exact: true })).toBeVisible();
    await dialog.getByRole("searchbox", { name: "Search tables and columns" }).fill("app_ver");
    const columns = dialog.getByRole("table", { name: "Columns of events" });
    await expect(columns.getByRole("cell", { name: "app_version" })).toBeVisible();
    await expect(columns.getByRole("row")).toHaveCount(1);
    await shot(page, "18-data-source-details");
    // The open modal makes the page inert, so the theme is switched the way the toggle does it.
    await page.evaluate(() => (document.documentElement.dataset.theme = "dark"));
    await shot(page, "18b-data-source-details-dark");
    await page.evaluate(() => (document.documentElement.dataset.theme = "light"));
    await dialog.getByRole("button", { name: "Close" }).click();
  });

  test("a warehouse that cannot be reached is failing and its schema shows why", async () => {
    const created = await page.request.post("/api/v1/data-sources", {
      headers: sameSite(page),
      data: { name: "Unreachable warehouse", db_type: "postgres", host: "127.0.0.1", port: 1, database_name: "analytics", username: "reader" },
    });
    expect(created.status()).toBe(201);
    await page.reload();
    const row = page.getByRole("row", { name: /Unreachable warehouse/ });
    await row.getByRole("button", { name: "Test" }).click();
    await expect(page.getByText(/^Connection failed/)).toBeVisible();
    await expect(row.getByText("failing")).toBeVisible();
    await row.getByRole("button", { name: "Unreachable warehouse" }).click();
    const dialog = page.getByRole("dialog", { name: "Data source Unreachable warehouse" });
    await expect(dialog.getByRole("alert")).toContainText(/could not reach 127\.0\.0\.1:1/);
    await shot(page, "18c-data-source-failing");
    await dialog.getByRole("button", { name: "Close" }).click();
  });

  test("edits a warehouse and keeps its stored password", async () => {
    const row = () => page.getByRole("row", { name: new RegExp(`Demo warehouse ${slug}`) });
    await row().getByRole("button", { name: "Edit" }).click();
    let dialog = page.getByRole("dialog", { name: /Edit data source/ });
    await dialog.getByLabel("Password").fill("warehouse-secret-1");
    await dialog.getByRole("button", { name: "Save data source" }).click();
    await expect(row().getByText("password stored")).toBeVisible();

    await row().getByRole("button", { name: "Edit" }).click();
    dialog = page.getByRole("dialog", { name: /Edit data source/ });
    await expect(dialog.getByText("A password is stored. Leave empty to keep it")).toBeVisible();
    await expect(dialog.getByLabel("Password")).toHaveValue("");
    await dialog.getByLabel("Name", { exact: true }).fill(`Demo warehouse ${slug} (edited)`);
    await dialog.getByLabel("Query timeout (seconds)").fill("45");
    await shot(page, "19-data-source-edit");
    await dialog.getByRole("button", { name: "Save data source" }).click();
    await expect(page.getByText(`Data source “Demo warehouse ${slug} (edited)” saved`)).toBeVisible();
    await expect(row().getByText("password stored")).toBeVisible();
    const sources = await (await page.request.get("/api/v1/data-sources")).json();
    const edited = sources.find((s: { name: string }) => s.name === `Demo warehouse ${slug} (edited)`);
    expect(edited.password_set).toBe(true);
    expect(edited.timeout_seconds).toBe(45);
  });

  test("edits a scan's advanced settings: the API's message lands next to the field", async () => {
    await page.goto(`/p/${slug}/scans`);
    await page.getByRole("link", { name: "Demo events (hourly)" }).click();
    await expect(page.getByRole("heading", { name: "Demo events (hourly)" })).toBeVisible();
    await expect(page.getByText("Monitoring every 1h")).toBeVisible();

    await page.getByRole("button", { name: "Edit", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: /Edit scan/ });
    await expect(dialog.getByText(/is a monitoring scan/)).toBeVisible();
    await dialog.getByRole("button", { name: /Advanced settings/ }).click();
    await expect(dialog.getByLabel("JSON value paths")).toHaveValue("properties.currency\nproperties.payment.method");
    await expect(dialog.getByLabel("App version column")).toHaveValue("app_version");
    await dialog.getByLabel("JSON value paths").fill("properties.currency\nproperties");
    await dialog.getByLabel("Breakdown values limit").fill("15");
    await dialog.getByRole("button", { name: "Add rule" }).click();
    const rule = dialog.getByRole("group", { name: "Event group rule 1" });
    await rule.getByLabel("Group name").fill("Checkout screens");
    await rule.getByLabel("Field 1").fill("screen");
    await rule.getByLabel("Pattern 1").fill("^checkout");
    await dialog.getByRole("button", { name: "Save scan" }).click();
    const invalid = dialog.locator(".field-invalid", { hasText: "JSON value paths" });
    await expect(invalid).toContainText("'properties' must be '<json_column>.<path>'");
    await invalid.scrollIntoViewIfNeeded();
    await shot(page, "20-scan-form-validation");
    await dialog.getByLabel("JSON value paths").fill("properties.currency\nproperties.payment.method");
    await dialog.getByRole("button", { name: "Save scan" }).click();
    await expect(page.getByText("Scan “Demo events (hourly)” saved")).toBeVisible();
    const scans = await (await page.request.get(`/api/v1/projects/${slug}/scans`)).json();
    expect(scans[0].metric_breakdown_values_limit).toBe(15);
    expect(scans[0].event_group_rules).toEqual([
      { name: "Checkout screens", condition_logic: "all", conditions: [{ field: "screen", pattern: "^checkout" }] },
    ]);
  });

  test("runs the scan, watches it in the job history and applies event groups", async () => {
    const jobs = page.getByRole("table", { name: "Scan jobs" });
    await page.getByRole("button", { name: "Run now" }).click();
    await expect(page.getByText("Scan run started")).toBeVisible();
    const catalog = jobs.getByRole("row").filter({ hasText: "Catalog run" }).first();
    await expect(catalog).toBeVisible();
    await expect(catalog.getByText(/^(completed|failed|cancelled)$/)).toBeVisible({ timeout: 60_000 });
    await expect(catalog.getByText("completed")).toBeVisible();
    await expect(catalog).toContainText(/\d+s/);

    await page.getByRole("button", { name: "Apply event groups" }).click();
    await expect(page.getByText("Applying event groups started")).toBeVisible();
    const groups = jobs.getByRole("row").filter({ hasText: "Apply event groups" }).first();
    await expect(groups.getByText("completed")).toBeVisible({ timeout: 60_000 });
    await shot(page, "21-scan-detail");
  });

  test("replays a window as the owner, with the API's message for a bad one", async () => {
    await page.getByRole("button", { name: "Replay…" }).click();
    const dialog = page.getByRole("dialog", { name: "Replay metrics" });
    await dialog.getByLabel("From").fill(localInput(1));
    await dialog.getByLabel("To").fill(localInput(48));
    await dialog.getByRole("button", { name: "Start replay" }).click();
    await expect(dialog.getByRole("alert")).toContainText(/later than|no completed/i);
    await shot(page, "22-replay-error");
    await dialog.getByLabel("From").fill(localInput(48));
    await dialog.getByLabel("To").fill(localInput(0));
    await dialog.getByRole("button", { name: "Start replay" }).click();
    await expect(page.getByText("Replay started")).toBeVisible();
    const replay = page.getByRole("table", { name: "Scan jobs" }).getByRole("row").filter({ hasText: "Metric replay" }).first();
    await expect(replay).toBeVisible();
    await expect(replay.getByText("completed")).toBeVisible({ timeout: 60_000 });
  });

  test("charts app versions, adoption and seasonality in both themes", async () => {
    await expect(page.getByRole("img", { name: /Event volume per app version/ })).toBeVisible();
    await expect(page.getByRole("img", { name: /App version adoption/ })).toBeVisible();
    await expect(page.getByRole("img", { name: /Seasonality heatmap/ })).toBeVisible();
    await expect(page.getByText(/Latest release:/)).toBeVisible();
    await shot(page, "23-scan-charts");
    await page.getByLabel("Scope of the charts").selectOption({ index: 1 });
    await expect(page.getByRole("heading", { name: "Adoption (all events of the scan)" })).toBeVisible();
    await expect(page.getByRole("img", { name: /Seasonality heatmap/ })).toBeVisible();
    await page.getByLabel("Scope of the charts").selectOption({ index: 0 });
    await setTheme(page, "dark");
    await shot(page, "24-scan-charts-dark");
    await setTheme(page, "light");
  });

  test("a scan without an app version column says so", async () => {
    await page.getByRole("button", { name: "Edit", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: /Edit scan/ });
    await dialog.getByRole("button", { name: /Advanced settings/ }).click();
    await dialog.getByLabel("App version column").fill("");
    await dialog.getByRole("button", { name: "Save scan" }).click();
    await expect(page.getByText(/This scan has no app version column/)).toBeVisible();
    await expect(page.getByRole("img", { name: /Seasonality heatmap/ })).toBeVisible();
  });
});
