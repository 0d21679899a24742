import { describe, expect, it } from "vitest";
import type { Schemas } from "../../src/api/client";
import { toApiError } from "../../src/api/client";
import { adoptionShares, fieldError, formToBody, heatmapData, fromLocalInput, isMonitoring, jobDuration, scanToForm, sourceHealth, splitList, summaryCounters } from "../../src/lib/observe";
import { filterSchema } from "../../src/pages/DataSourceDetails";

const NOW = new Date("2026-03-10T12:00:00Z");

describe("data source health", () => {
  it("is untested without a test, failing after a failed one", () => {
    expect(sourceHealth({ last_test_at: null, last_test_status: null }, NOW)).toBe("untested");
    expect(sourceHealth({ last_test_at: "2026-03-10T11:00:00Z", last_test_status: "failed" }, NOW)).toBe("failing");
  });

  it("is healthy after a recent success and stale once it is over seven days old", () => {
    expect(sourceHealth({ last_test_at: "2026-03-04T12:00:00Z", last_test_status: "success" }, NOW)).toBe("healthy");
    expect(sourceHealth({ last_test_at: "2026-03-03T11:59:00Z", last_test_status: "success" }, NOW)).toBe("stale");
  });
});

const SCAN: Schemas["ScanConfigResponse"] = {
  id: "s1", data_source_id: "d1", project_id: "p1", event_type_id: null, name: "Shop", base_query: "SELECT * FROM events",
  event_type_column: "event_type", time_column: "event_time", event_name_format: "{screen}:{event_name}",
  json_value_paths: ["properties.screen.name", "properties.a,b"], event_group_rules: [
    { name: "Checkout", condition_logic: "any", conditions: [{ field: "screen", pattern: "^checkout" }] },
  ],
  metric_breakdown_columns: ["platform", "country"], metric_breakdown_values_limit: 20, distribution_drift_fields: ["platform"],
  cardinality_threshold: 150, interval: "1h", replay_chunk_interval: "1d", scan_lookback_hours: null, scan_row_limit: 50000,
  metrics_row_limit: null, app_version_column: "app_version", app_version_keep_releases: 5,
  created_at: "2026-03-01T00:00:00Z", updated_at: "2026-03-01T00:00:00Z",
};

describe("scan form and API body", () => {
  it("round-trip every setting of a scan", () => {
    const body = formToBody(scanToForm(SCAN));
    expect(body).toEqual({
      name: "Shop", base_query: "SELECT * FROM events", time_column: "event_time", interval: "1h",
      event_type_column: "event_type", event_type_id: null, event_name_format: "{screen}:{event_name}",
      json_value_paths: ["properties.screen.name", "properties.a,b"], metric_breakdown_columns: ["platform", "country"],
      metric_breakdown_values_limit: 20, distribution_drift_fields: ["platform"], cardinality_threshold: 150,
      replay_chunk_interval: "1d", scan_lookback_hours: null, scan_row_limit: 50000, metrics_row_limit: null,
      app_version_column: "app_version", app_version_keep_releases: 5,
      event_group_rules: [{ name: "Checkout", condition_logic: "any", conditions: [{ field: "screen", pattern: "^checkout" }] }],
    });
  });

  it("send empty inputs as cleared settings and keep the API's default threshold", () => {
    const form = { ...scanToForm(SCAN), time_column: " ", interval: "" as const, app_version_column: "", cardinality_threshold: "", scan_row_limit: "" };
    const body = formToBody(form);
    expect(body.time_column).toBeNull();
    expect(body.interval).toBeNull();
    expect(body.app_version_column).toBeNull();
    expect(body.scan_row_limit).toBeNull();
    expect("cardinality_threshold" in body).toBe(false);
    expect(isMonitoring(form)).toBe(false);
    expect(isMonitoring(scanToForm(SCAN))).toBe(true);
  });

  it("send only the chosen event type source", () => {
    const fixed = formToBody({ ...scanToForm(SCAN), event_type_mode: "fixed", event_type_id: "t1" });
    expect(fixed.event_type_column).toBeNull();
    expect(fixed.event_type_id).toBe("t1");
    expect(scanToForm({ ...SCAN, event_type_id: "t1", event_type_column: null }).event_type_mode).toBe("fixed");
  });

  it("split lists on commas and lines", () => {
    expect(splitList("a, b\n c,,")).toEqual(["a", "b", "c"]);
    expect(splitList("x.a,b\n\ny.c", true)).toEqual(["x.a,b", "y.c"]);
  });

  it("find the API's message for a field or one of its items", () => {
    const error = toApiError(422, {
      detail: [
        { loc: ["body", "json_value_paths"], msg: "Value error, 'props' must be '<json_column>.<path>'" },
        { loc: ["body", "event_group_rules", 0, "conditions", 1, "pattern"], msg: "Value error, '(' is not a valid regular expression" },
      ],
    });
    expect(fieldError(error.fields, "json_value_paths")).toBe("'props' must be '<json_column>.<path>'");
    expect(fieldError(error.fields, "event_group_rules.0.conditions.1.pattern")).toMatch(/not a valid regular expression/);
    expect(fieldError(error.fields, "event_group_rules")).toMatch(/not a valid regular expression/);
    expect(fieldError(error.fields, "time_column")).toBeUndefined();
  });
});

describe("scan jobs", () => {
  it("show durations and counters", () => {
    expect(jobDuration({ started_at: "2026-03-10T11:58:55Z", completed_at: "2026-03-10T12:00:00Z" })).toBe("1m 5s");
    expect(jobDuration({ started_at: "2026-03-10T11:59:58Z", completed_at: null }, NOW)).toBe("2s");
    expect(jobDuration({ started_at: null, completed_at: null })).toBe("—");
    expect(summaryCounters({ events_created: 1200, nested: { a: 1 }, partial: false, seconds: 0.12345, time_from: "x" })).toEqual([
      ["events created", "1,200"], ["partial", "false"], ["seconds", "0.12"],
    ]);
  });

  it("send replay bounds as instants and leave a bad value for the API to explain", () => {
    expect(fromLocalInput("2026-03-01T10:00")).toBe(new Date("2026-03-01T10:00").toISOString());
    expect(fromLocalInput("")).toBe("");
  });
});

describe("schema browser search", () => {
  const tables = [
    { name: "events", columns: [{ name: "event_time", data_type: "TIMESTAMP" }, { name: "platform", data_type: "VARCHAR" }] },
    { name: "users", columns: [{ name: "user_id", data_type: "BIGINT" }] },
  ];
  it("keeps whole tables whose name matches and only the matching columns of others", () => {
    expect(filterSchema(tables, "")).toBe(tables);
    expect(filterSchema(tables, "USERS")).toEqual([tables[1]]);
    expect(filterSchema(tables, "plat")).toEqual([{ name: "events", columns: [{ name: "platform", data_type: "VARCHAR" }] }]);
    expect(filterSchema(tables, "nothing")).toEqual([]);
  });
});

describe("version adoption and seasonality", () => {
  it("turn per-version counts into shares of each bucket's total", () => {
    const shares = adoptionShares(
      [
        { version: "2.0", data: [{ bucket: "b1", count: 1 }, { bucket: "b2", count: 3 }] },
        { version: "1.9", data: [{ bucket: "b1", count: 3 }, { bucket: "b3", count: 5 }] },
      ],
      [{ bucket: "b1", count: 4 }, { bucket: "b2", count: 4 }],
    );
    expect(shares).toEqual([
      { version: "2.0", data: [["b1", 25], ["b2", 75]] },
      { version: "1.9", data: [["b1", 75], ["b2", 0]] },
    ]);
  });

  it("fill all 7×24 heatmap cells, weekday rows and hour columns", () => {
    const data = heatmapData([{ weekday: 6, hour: 23, count: 9 }, { weekday: 0, hour: 1, count: 2 }]);
    expect(data).toHaveLength(168);
    expect(data[1]).toEqual([1, 0, 2]);
    expect(data[167]).toEqual([23, 6, 9]);
    expect(data[0]).toEqual([0, 0, 0]);
  });
});
