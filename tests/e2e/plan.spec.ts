import { expect, test, type Page } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";

// One story, in order, on a fresh instance: the first owner builds a plan in the UI; a viewer then reads it.
test.describe.configure({ mode: "serial" });

const SHOTS = path.resolve(__dirname, "screenshots");
const OWNER = { name: "Olivia Owner", email: "olivia@example.com", password: "correct-horse-42" };
const VIEWER = { email: "victor@example.com", password: "viewer-pass-42" };
const SLUG = "shop-app";

fs.mkdirSync(SHOTS, { recursive: true });

async function shot(page: Page, name: string) {
  await page.waitForLoadState("networkidle");
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Cookie-authenticated writes must come from this site, as the browser's own fetch does. */
function sameSite(page: Page) {
  return { Origin: new URL(page.url()).origin };
}

function nav(page: Page, name: string) {
  return page.getByRole("complementary", { name: "Main navigation" }).getByRole("link", { name, exact: true });
}

async function setTheme(page: Page, theme: "light" | "dark") {
  const toggle = page.getByRole("button", { name: /theme/ });
  const dark = (await toggle.getAttribute("aria-pressed")) === "true";
  if (dark !== (theme === "dark")) await toggle.click();
}

test.describe("tracking plan in the browser", () => {
  let page: Page;

  test.beforeAll(async ({ browser }) => {
    page = await browser.newPage();
  });

  test("the first visitor creates the owner account", async () => {
    await page.goto("/");
    await expect(page).toHaveURL(/\/login/);
    await expect(page.getByRole("heading", { name: "Welcome to tripl" })).toBeVisible();
    await shot(page, "01-welcome");
    await page.getByRole("link", { name: "Create the owner account" }).click();
    await page.getByLabel("Name").fill(OWNER.name);
    await page.getByLabel("Email").fill(OWNER.email);
    await page.getByLabel("Password").fill("short");
    await page.getByRole("button", { name: "Create account" }).click();
    // The API's validation message lands next to the password field.
    await expect(page.locator(".field-invalid")).toContainText(/at least 8 characters/i);
    await page.getByLabel("Password").fill(OWNER.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("heading", { name: "Projects", exact: true })).toBeVisible();
    await expect(page.getByRole("heading", { name: "No projects yet" })).toBeVisible();
    await expect(page.getByText("owner", { exact: true })).toBeVisible();
  });

  test("creates a project", async () => {
    await page.getByRole("button", { name: "New project" }).first().click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill("Shop App");
    await expect(dialog.getByLabel("Slug")).toHaveValue(SLUG);
    await dialog.getByLabel("Description").fill("Mobile shop: browsing, cart and checkout.");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(new RegExp(`/p/${SLUG}/events`));
    await expect(page.getByRole("heading", { name: "Define an event type first" })).toBeVisible();
  });

  test("defines an event type with fields", async () => {
    await page.getByRole("link", { name: "Go to event types" }).click();
    await page.getByRole("button", { name: "New event type" }).first().click();
    let dialog = page.getByRole("dialog", { name: "New event type" });
    await dialog.getByLabel("Name", { exact: true }).fill("screen_view");
    await dialog.getByLabel("Display name").fill("Screen view");
    await dialog.getByLabel("Description").fill("A screen became visible.");
    await dialog.getByRole("button", { name: "Create event type" }).click();
    await expect(page.getByRole("heading", { name: /Screen view/ })).toBeVisible();

    await page.getByRole("button", { name: "Add several…" }).click();
    dialog = page.getByRole("dialog", { name: /Add several fields/ });
    await dialog.getByLabel("Fields").fill("screen_name:string*\nprice:number");
    await dialog.getByRole("button", { name: "Add 2 fields" }).click();
    await expect(page.getByRole("cell", { name: /^screen_name/ })).toBeVisible();

    await page.getByRole("button", { name: "Add field" }).click();
    dialog = page.getByRole("dialog", { name: /Add a field/ });
    await dialog.getByLabel("Name", { exact: true }).fill("platform");
    await dialog.getByLabel("Type").selectOption("enum");
    await dialog.getByLabel("Enum options").fill("ios\nandroid\nweb");
    await dialog.getByLabel("Required").check();
    await dialog.getByLabel("Max null rate (0–1)").fill("0.05");
    await dialog.getByRole("button", { name: "Add field" }).click();
    await expect(page.getByRole("cell", { name: /^platform/ })).toBeVisible();
    await expect(page.getByText("ios · android · web")).toBeVisible();

    // Reorder: platform moves above price.
    await page.getByRole("button", { name: "Move platform up" }).click();
    await expect(page.locator("tbody tr").nth(1)).toContainText("platform");
    await shot(page, "04-event-types");
  });

  test("adds events through the form and the API", async () => {
    await nav(page, "Events").click();
    await page.getByRole("button", { name: "New event" }).first().click();
    const dialog = page.getByRole("dialog", { name: "New event" });
    await dialog.getByLabel("Name", { exact: true }).fill("Checkout opened");
    await dialog.getByLabel("Tags").fill("checkout, funnel");
    await dialog.getByLabel("Description").fill("The checkout screen is shown.");
    await dialog.getByLabel(/screen_name/).fill("checkout_${step}");
    await dialog.getByLabel(/^platform/).selectOption("ios");
    await dialog.getByRole("button", { name: "Create event" }).click();
    await expect(page.getByRole("heading", { name: "Checkout opened" })).toBeVisible();
    await expect(page.locator(".variable", { hasText: "step" })).toBeVisible();

    // More events straight through the API, with the browser's session.
    const types = await (await page.request.get(`/api/v1/projects/${SLUG}/event-types`)).json();
    const type = types[0];
    const field = (name: string) => type.field_definitions.find((f: { name: string }) => f.name === name).id;
    for (const [name, platform, tags] of [
      ["Checkout paid", "ios", ["checkout"]],
      ["Cart viewed", "android", ["cart"]],
      ["Home viewed", "web", []],
    ] as const) {
      const response = await page.request.post(`/api/v1/projects/${SLUG}/events`, {
        headers: sameSite(page),
        data: {
          event_type_id: type.id,
          name,
          tags,
          field_values: [
            { field_definition_id: field("screen_name"), value: name.toLowerCase().replace(" ", "_") },
            { field_definition_id: field("platform"), value: platform },
          ],
        },
      });
      expect(response.status()).toBe(201);
    }
  });

  test("filters the catalog with the filters kept in the URL", async () => {
    await page.goto(`/p/${SLUG}/events`); // a fresh load sees the events the API just created
    await expect(page.getByRole("link", { name: "Home viewed" })).toBeVisible();
    await expect(page.getByText("4 events")).toBeVisible();
    await page.getByRole("searchbox", { name: "Search events" }).fill("checkout");
    await expect(page).toHaveURL(/q=checkout/);
    await expect(page.getByText("2 events match the filters")).toBeVisible();
    await page.getByLabel("Field value contains").fill("ios");
    await expect(page).toHaveURL(/field=ios/);
    await page.getByRole("button", { name: "Draft", exact: true }).click();
    await expect(page).toHaveURL(/status=draft/);
    await page.reload();
    await expect(page.getByText("2 events match the filters")).toBeVisible();
    await expect(page.getByRole("button", { name: "Draft", exact: true })).toHaveAttribute("aria-pressed", "true");
    await expect(page.getByRole("searchbox", { name: "Search events" })).toHaveValue("checkout");
    await page.getByLabel("Tag").selectOption("funnel");
    await expect(page.getByText("1 event match the filters")).toBeVisible();
    await page.getByRole("button", { name: "Clear filters" }).click();
    await expect(page.getByText("4 events")).toBeVisible();
  });

  test("bulk-edits the status of selected events after confirmation", async () => {
    await page.getByRole("searchbox", { name: "Search events" }).fill("checkout");
    await expect(page.getByText("2 events match the filters")).toBeVisible();
    await page.getByRole("checkbox", { name: "Select all events on this page" }).check();
    await expect(page.getByText("2 selected")).toBeVisible();
    await page.getByLabel("Set status").selectOption("live");
    const confirm = page.getByRole("dialog", { name: "Update events?" });
    await expect(confirm).toContainText("“Live”");
    await confirm.getByRole("button", { name: "Apply to 2" }).click();
    await expect(page.getByText("Updated 2 events")).toBeVisible();
    await expect(page.locator("tbody .badge", { hasText: "Live" })).toHaveCount(2);
    await page.getByRole("button", { name: "Clear filters" }).click();
    await expect(page.getByText("4 events")).toBeVisible();
    // Manual order: move the last event up one place.
    await page.getByRole("button", { name: "Move Home viewed up" }).click();
    await expect(page.locator("tbody tr").nth(2)).toContainText("Home viewed");
    await shot(page, "05-events");
  });

  test("uploads a photo with a preview and sees the history", async () => {
    await page.getByRole("link", { name: "Checkout opened" }).click();
    await expect(page.getByRole("heading", { name: "Checkout opened" })).toBeVisible();
    const png = await page.screenshot({ clip: { x: 232, y: 0, width: 800, height: 500 } });
    await page.getByLabel("Choose an image to upload").setInputFiles({ name: "checkout.png", mimeType: "image/png", buffer: png });
    await expect(page.getByAltText("Preview of checkout.png")).toBeVisible();
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    await expect(page.getByText("Photo uploaded")).toBeVisible();
    const photo = page.locator(".photo-grid img");
    await expect(photo).toHaveCount(1);
    await expect.poll(() => photo.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);

    // Edit the event: its history records each change.
    await page.getByRole("button", { name: "Edit event" }).click();
    const dialog = page.getByRole("dialog", { name: /Edit Checkout opened/ });
    await dialog.getByLabel("Name", { exact: true }).fill("Checkout screen opened");
    await dialog.getByRole("button", { name: "Save event" }).click();
    await expect(page.getByRole("heading", { name: "Checkout screen opened" })).toBeVisible();
    const history = page.getByRole("list", { name: "History" });
    await expect(history).toContainText("status");
    await expect(history.locator(".diff-new", { hasText: "Live" })).toBeVisible();
    await expect(history.locator(".diff-new", { hasText: "Checkout screen opened" })).toBeVisible();
    await shot(page, "06-event-detail");
    await setTheme(page, "dark");
    await shot(page, "07-event-detail-dark");
    await nav(page, "Events").click();
    await shot(page, "08-events-dark");
    await setTheme(page, "light");
  });

  test("the other plan screens answer", async () => {
    await nav(page, "Meta fields").click();
    await page.getByRole("button", { name: "New meta field" }).first().click();
    let dialog = page.getByRole("dialog", { name: "New meta field" });
    await dialog.getByLabel("Name", { exact: true }).fill("jira");
    await dialog.getByLabel("Display name").fill("Jira ticket");
    await dialog.getByLabel("Link template").fill("https://jira.example.com/browse/{value}");
    await dialog.getByRole("button", { name: "Save" }).click();
    await expect(page.getByRole("cell", { name: /Jira ticket/ })).toBeVisible();
    await shot(page, "09-meta-fields");

    // A meta value renders as a link through the template; photos take a Figma link and comments.
    await nav(page, "Events").click();
    await page.getByRole("link", { name: "Checkout screen opened" }).click();
    await page.getByRole("button", { name: "Edit event" }).click();
    dialog = page.getByRole("dialog", { name: /Edit Checkout screen opened/ });
    await dialog.getByLabel("Jira ticket").fill("SHOP-42");
    await dialog.getByRole("button", { name: "Save event" }).click();
    await expect(page.getByRole("link", { name: /SHOP-42/ })).toHaveAttribute("href", "https://jira.example.com/browse/SHOP-42");
    await page.getByRole("button", { name: "Add Figma link" }).click();
    dialog = page.getByRole("dialog", { name: "Link a Figma design" });
    await dialog.getByLabel("Figma URL").fill("https://www.figma.com/design/AbC123/Checkout");
    await dialog.getByLabel("Title").fill("Checkout flow");
    await dialog.getByRole("button", { name: "Add link" }).click();
    await expect(page.getByRole("link", { name: /Checkout flow/ })).toBeVisible();
    await page.getByRole("button", { name: "Comments" }).first().click();
    dialog = page.getByRole("dialog", { name: /Comments on/ });
    await dialog.getByLabel("Add a comment").fill("The pay button moved in 2.3");
    await dialog.getByRole("button", { name: "Comment" }).click();
    await expect(dialog.getByText("The pay button moved in 2.3")).toBeVisible();
    await dialog.getByRole("button", { name: "Close" }).click();

    await nav(page, "Relations").click();
    await page.getByRole("button", { name: "New relation" }).first().click();
    dialog = page.getByRole("dialog", { name: "New relation" });
    await dialog.getByLabel("From event type").selectOption({ label: "Screen view" });
    await dialog.getByLabel("From field").selectOption({ label: "screen_name" });
    await dialog.getByLabel("To event type").selectOption({ label: "Screen view" });
    await dialog.getByLabel("To field").selectOption({ label: "platform" });
    await dialog.getByLabel("Relation type").fill("same_session");
    await dialog.getByRole("button", { name: "Create relation" }).click();
    await expect(page.getByRole("cell", { name: "screen_view.screen_name" })).toBeVisible();

    await nav(page, "Event types").click();
    await page.getByLabel("User to add as owner").selectOption({ label: OWNER.name });
    await page.getByRole("button", { name: "Add owner" }).click();
    await expect(page.locator(".owner-list")).toContainText(OWNER.email);

    await nav(page, "Variables").click();
    await page.getByRole("button", { name: "New variable" }).first().click();
    dialog = page.getByRole("dialog", { name: "New variable" });
    await dialog.getByLabel("Name").fill("step");
    await dialog.getByRole("button", { name: "Save" }).click();
    await expect(page.getByRole("cell", { name: "${step}" })).toBeVisible();
    await shot(page, "09-variables");

    await nav(page, "Projects").click();
    await expect(page.getByRole("link", { name: /Shop App/ })).toContainText("4");
    await shot(page, "02-projects");
  });

  test("an owner makes a new account a viewer", async ({ playwright, baseURL }) => {
    const anonymous = await playwright.request.newContext({ baseURL });
    const registered = await anonymous.post("/api/v1/auth/register", { data: VIEWER });
    expect(registered.status()).toBe(201);
    expect((await registered.json()).role).not.toBe("owner");
    await anonymous.dispose();

    await nav(page, "Users").click();
    await page.getByLabel(`Role of ${VIEWER.email}`).selectOption("editor");
    await expect(page.getByText(`${VIEWER.email} is now an editor`)).toBeVisible();
    await page.getByLabel(`Role of ${VIEWER.email}`).selectOption("viewer");
    await expect(page.getByText(`${VIEWER.email} is now a viewer`)).toBeVisible();
    await shot(page, "10-users");

    await nav(page, "API keys").click();
    await page.getByRole("button", { name: "New API key" }).first().click();
    const dialog = page.getByRole("dialog", { name: "New API key" });
    await dialog.getByLabel("Name").fill("CI plan check");
    await dialog.getByRole("button", { name: "Create key" }).click();
    const token = await page.getByTestId("api-token").textContent();
    expect(token).toMatch(/^tk_/);
    await shot(page, "11-api-key-created");
    await page.getByRole("button", { name: "Done" }).click();
    await expect(page.getByRole("cell", { name: /CI plan check/ })).toBeVisible();
  });

  test("an expired session sends the user to sign in and back", async () => {
    await page.context().clearCookies();
    await nav(page, "Users").click(); // its list is always refetched: the API answers 401
    await expect(page).toHaveURL(/\/login\?next=%2Fusers/);
    await expect(page.getByText("Your session has expired")).toBeVisible();
    await page.getByLabel("Email").fill(OWNER.email);
    await page.getByLabel("Password").fill(OWNER.password);
    await shot(page, "03-login");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("heading", { name: "Users", exact: true })).toBeVisible();
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login/);
  });

  test("a viewer sees no edit controls and the API refuses edits anyway", async ({ browser }) => {
    const viewer = await browser.newPage();
    await viewer.goto(`/p/${SLUG}/events`);
    await expect(viewer).toHaveURL(/\/login\?next=/);
    await viewer.getByLabel("Email").fill(VIEWER.email);
    await viewer.getByLabel("Password").fill(VIEWER.password);
    await viewer.getByRole("button", { name: "Sign in" }).click();
    await expect(viewer).toHaveURL(new RegExp(`/p/${SLUG}/events`));
    await expect(viewer.getByRole("link", { name: "Home viewed" })).toBeVisible();
    await expect(viewer.getByRole("button", { name: "New event" })).toHaveCount(0);
    await expect(viewer.getByRole("checkbox")).toHaveCount(0);
    await expect(viewer.getByRole("button", { name: /Move .* up/ })).toHaveCount(0);
    await expect(viewer.getByRole("link", { name: "Users" })).toHaveCount(0);

    await viewer.getByRole("link", { name: "Checkout screen opened" }).click();
    await expect(viewer.getByRole("heading", { name: "Checkout screen opened" })).toBeVisible();
    await expect(viewer.getByRole("button", { name: "Edit event" })).toHaveCount(0);
    await expect(viewer.getByText("Choose image…")).toHaveCount(0);
    await shot(viewer, "12-viewer-event-detail");

    const events = await (await viewer.request.get(`/api/v1/projects/${SLUG}/events`)).json();
    const refused = await viewer.request.patch(`/api/v1/projects/${SLUG}/events/${events.items[0].id}`, {
      headers: sameSite(viewer),
      data: { status: "archived" },
    });
    expect(refused.status()).toBe(403);
    expect((await refused.json()).detail).toBe("Editor role required");
    const bulk = await viewer.request.post(`/api/v1/projects/${SLUG}/events/bulk-delete`, {
      headers: sameSite(viewer),
      data: { event_ids: [events.items[0].id] },
    });
    expect(bulk.status()).toBe(403);
    expect((await bulk.json()).detail).toBe("Editor role required");
    await viewer.close();
  });

  test("the owner generates the demo project and watches scans and volume", async ({ browser }) => {
    const owner = await browser.newPage();
    await owner.goto("/login");
    await owner.getByLabel("Email").fill(OWNER.email);
    await owner.getByLabel("Password").fill(OWNER.password);
    await owner.getByRole("button", { name: "Sign in" }).click();
    await expect(owner.getByRole("heading", { name: "Projects", exact: true })).toBeVisible();
    // The projects list offers the demo only when empty; the API route is the same one its button calls.
    const demo = await owner.request.post("/api/v1/projects/demo", { headers: sameSite(owner), timeout: 120_000 });
    expect(demo.status()).toBe(201);
    const { slug } = await demo.json();

    await owner.goto(`/p/${slug}/scans`);
    await expect(owner.getByRole("heading", { name: "Scans & volume" })).toBeVisible();
    await expect(owner.getByRole("img", { name: /Event volume over the last 7 days/ })).toBeVisible();
    await expect(owner.locator(".card .badge", { hasText: "completed" }).first()).toBeVisible();
    await owner.getByRole("button", { name: "Run now" }).first().click();
    await expect(owner.getByText(/started/)).toBeVisible();
    // The newest job (first row) is the run just started: it goes from pending to completed.
    await expect(owner.locator(".card tbody tr").first().locator(".badge")).toHaveText("completed", { timeout: 60_000 });
    await shot(owner, "13-scans-volume");

    // A new scan's query is previewed in the warehouse before it is saved.
    await owner.getByRole("button", { name: "New scan" }).click();
    const scanDialog = owner.getByRole("dialog", { name: "New scan" });
    await scanDialog.getByLabel("Name", { exact: true }).fill("Purchases only");
    await scanDialog.getByLabel("Data source").selectOption({ index: 1 });
    await scanDialog.getByLabel("Base query").fill("SELECT event_time, event_name, platform FROM events WHERE event_type = 'purchase'");
    await scanDialog.getByRole("button", { name: "Preview query" }).click();
    const previewTable = scanDialog.getByRole("table", { name: "Query preview" });
    await expect(previewTable.getByRole("columnheader", { name: /platform/ })).toBeVisible({ timeout: 30_000 });
    await expect(previewTable.locator("tbody tr")).toHaveCount(10);
    await shot(owner, "13b-scan-preview");
    await scanDialog.getByRole("button", { name: "Cancel" }).click();

    await owner.getByRole("button", { name: "Edit", exact: true }).first().click();
    const editDialog = owner.getByRole("dialog", { name: /Edit scan/ });
    await editDialog.getByLabel("Name", { exact: true }).fill("Shop events, hourly");
    await editDialog.getByRole("button", { name: "Save scan" }).click();
    await expect(owner.getByRole("heading", { name: "Shop events, hourly" })).toBeVisible();

    await nav(owner, "Events").click();
    await expect(owner.getByRole("img", { name: "home_view volume over 7 days" })).toBeVisible();
    await shot(owner, "17-events-with-volume");
    await owner.getByRole("link", { name: "home_view" }).click();
    await expect(owner.getByRole("img", { name: "Event volume by breakdown value" })).toBeVisible();
    await shot(owner, "14-event-volume");
    await setTheme(owner, "dark");
    await shot(owner, "15-event-volume-dark");
    await setTheme(owner, "light");

    await nav(owner, "Events").click();
    await owner.getByRole("searchbox", { name: "Search events" }).fill("logout_tap");
    await expect(owner.getByText("1 event match the filters")).toBeVisible();
    await owner.getByRole("checkbox", { name: "Select all events on this page" }).check();
    await owner.getByRole("region", { name: "Bulk actions" }).getByRole("button", { name: "Delete" }).click();
    await owner.getByRole("dialog", { name: "Delete events?" }).getByRole("button", { name: "Delete 1" }).click();
    await expect(owner.getByText("Deleted 1 event")).toBeVisible();
    await expect(owner.getByRole("heading", { name: "No events match these filters" })).toBeVisible();

    await nav(owner, "Data sources").click();
    await expect(owner.getByRole("cell", { name: /DuckDB/ })).toBeVisible();
    await shot(owner, "16-data-sources");

    await owner.goto(`/p/${slug}/settings`);
    await owner.getByRole("button", { name: "Delete project" }).click();
    await owner.getByRole("dialog", { name: "Delete project?" }).getByRole("button", { name: "Delete project" }).click();
    await expect(owner).toHaveURL(/\/$/);
    await expect(owner.getByRole("link", { name: /Demo shop/ })).toHaveCount(0);
    await owner.close();
  });
});
