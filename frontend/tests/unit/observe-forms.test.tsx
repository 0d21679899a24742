import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Schemas } from "../../src/api/client";
import { ToastProvider } from "../../src/components/Toast";
import { DataSourceDialog } from "../../src/pages/DataSourcesPage";
import { ScanFormDialog } from "../../src/pages/ScanFormDialog";

type Route = (request: Request, body: unknown) => [number, unknown] | undefined;

/** Stands in for the server: each request goes to the first route that answers it; bodies are recorded. */
function serve(route: Route) {
  const sent: { method: string; path: string; body: unknown }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      const text = await request.clone().text();
      const body: unknown = text ? JSON.parse(text) : undefined;
      sent.push({ method: request.method, path: new URL(request.url).pathname, body });
      const [status, answer] = route(request, body) ?? [404, { detail: "Not found" }];
      return new Response(JSON.stringify(answer), { status, headers: { "Content-Type": "application/json" } });
    }),
  );
  return sent;
}

function wrap(children: ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <ToastProvider>{children}</ToastProvider>
    </QueryClientProvider>,
  );
}

afterEach(() => vi.unstubAllGlobals());

const SOURCE: Schemas["DataSourceResponse"] = {
  id: "d1", name: "Warehouse", db_type: "postgres", host: "db.internal", port: 5432, database_name: "analytics",
  username: "reader", password_set: true, secret_params_set: [], timeout_seconds: null, extra_params: null,
  last_test_at: null, last_test_status: null, last_test_message: null, created_at: "2026-03-01T00:00:00Z", updated_at: "2026-03-01T00:00:00Z",
};

describe("data source edit", () => {
  it("keeps the stored password when the field stays empty, and replaces it when typed", async () => {
    const sent = serve((request, body) => (request.method === "PATCH" ? [200, { ...SOURCE, ...(body as object) }] : undefined));
    const onClose = vi.fn();
    wrap(<DataSourceDialog source={SOURCE} onClose={onClose} />);
    expect(screen.getByLabelText("Password")).toHaveAccessibleDescription(/A password is stored. Leave empty to keep it/);
    await userEvent.clear(screen.getByLabelText("Name"));
    await userEvent.type(screen.getByLabelText("Name"), "Warehouse EU");
    await userEvent.click(screen.getByRole("button", { name: "Save data source" }));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(sent[0]).toMatchObject({ method: "PATCH", path: "/api/v1/data-sources/d1" });
    expect(sent[0].body).toMatchObject({ name: "Warehouse EU", password: null, timeout_seconds: null });

    await userEvent.type(screen.getByLabelText("Password"), "new-secret");
    await userEvent.click(screen.getByRole("button", { name: "Save data source" }));
    await waitFor(() => expect(sent).toHaveLength(2));
    expect(sent[1].body).toMatchObject({ password: "new-secret" });
  });
});

const SCAN: Schemas["ScanConfigResponse"] = {
  id: "s1", data_source_id: "d1", project_id: "p1", event_type_id: null, name: "Shop", base_query: "SELECT * FROM events",
  event_type_column: "event_type", time_column: "event_time", event_name_format: null, json_value_paths: [],
  event_group_rules: [], metric_breakdown_columns: [], metric_breakdown_values_limit: null, distribution_drift_fields: [],
  cardinality_threshold: 100, interval: "1h", replay_chunk_interval: null, scan_lookback_hours: null, scan_row_limit: null,
  metrics_row_limit: null, app_version_column: null, app_version_keep_releases: null,
  created_at: "2026-03-01T00:00:00Z", updated_at: "2026-03-01T00:00:00Z",
};

describe("scan form", () => {
  it("opens the advanced settings to show the API's message next to the field it is about", async () => {
    const sent = serve((request) => {
      const path = new URL(request.url).pathname;
      if (path === "/api/v1/data-sources") return [200, [SOURCE]];
      if (path.endsWith("/event-types")) return [200, []];
      if (request.method === "PATCH")
        return [422, { detail: [{ loc: ["body", "replay_chunk_interval"], msg: "replay_chunk_interval (15m) must be at least the interval (1h)", type: "value_error" }] }];
      return undefined;
    });
    wrap(<ScanFormDialog slug="shop" scan={SCAN} onClose={() => {}} />);
    expect(screen.getByText(/is a monitoring scan/)).toBeInTheDocument();
    expect(screen.queryByLabelText("Replay chunk interval")).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: /Advanced settings/ }));
    await userEvent.selectOptions(screen.getByLabelText("Replay chunk interval"), "15m");
    await userEvent.click(screen.getByRole("button", { name: /Advanced settings/ })); // collapsed again before saving
    await userEvent.click(screen.getByRole("button", { name: "Save scan" }));
    const field = await screen.findByLabelText("Replay chunk interval");
    expect(field).toHaveAttribute("aria-invalid", "true");
    expect(field).toHaveAccessibleDescription("replay_chunk_interval (15m) must be at least the interval (1h)");
    const patch = sent.find((r) => r.method === "PATCH");
    expect(patch?.body).toMatchObject({ replay_chunk_interval: "15m", interval: "1h", time_column: "event_time", json_value_paths: [] });
  });
});
