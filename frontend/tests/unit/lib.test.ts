import { describe, expect, it } from "vitest";
import { toApiError } from "../../src/api/client";
import { apiQuery, hasFilters, readFilters, writeFilters } from "../../src/lib/filters";
import { metaLink, moveItem, relativeTime, slugify, splitVariables, statusLabel } from "../../src/lib/format";
import { parseBulkFields } from "../../src/pages/EventTypesPage";

describe("event filters in the URL", () => {
  it("round-trip every list filter of the API", () => {
    const params = new URLSearchParams("type=t1&q=checkout&status=draft&status=live&tag=funnel&silent=7&field=ios&meta=JIRA&page=3");
    const filters = readFilters(params);
    expect(filters).toEqual({
      type: "t1", q: "checkout", status: ["draft", "live"], tag: "funnel", silent: "7", field: "ios", meta: "JIRA", page: 3,
    });
    expect(writeFilters(filters).toString()).toBe(params.toString());
  });

  it("drop unknown statuses and map to the API's query names", () => {
    const filters = readFilters(new URLSearchParams("status=bogus&status=live&silent=30&page=2"));
    expect(filters.status).toEqual(["live"]);
    expect(apiQuery(filters)).toEqual({
      event_type_id: undefined, search: undefined, status: ["live"], tag: undefined, silent_since_days: 30,
      field_value: undefined, meta_value: undefined, offset: 100, limit: 100,
    });
    expect(hasFilters(readFilters(new URLSearchParams("page=4")))).toBe(false);
  });
});

describe("API errors", () => {
  it("read a string detail as the message", () => {
    const error = toApiError(409, { detail: "An event named checkout already exists" });
    expect(error.message).toBe("An event named checkout already exists");
    expect(error.status).toBe(409);
  });

  it("attach validation messages to the fields that caused them", () => {
    const error = toApiError(422, {
      detail: [
        { loc: ["body", "slug"], msg: "String should match pattern", type: "string_pattern_mismatch" },
        { loc: ["body", "name"], msg: "Value error, name must not be blank", type: "value_error" },
      ],
    });
    expect(error.fields).toEqual({ slug: "String should match pattern", name: "name must not be blank" });
    expect(error.message).toContain("slug: String should match pattern");
  });

  it("fall back to the HTTP status when the body has no detail", () => {
    expect(toApiError(502, undefined).message).toBe("Request failed (HTTP 502)");
  });
});

describe("formatting", () => {
  it("split ${variables} out of field values", () => {
    expect(splitVariables("screen_${screen_name}_v${n}")).toEqual([
      { text: "screen_", variable: false },
      { text: "screen_name", variable: true },
      { text: "_v", variable: false },
      { text: "n", variable: true },
    ]);
    expect(splitVariables("plain")).toEqual([{ text: "plain", variable: false }]);
  });

  it("build meta links from templates and refuse non-http ones", () => {
    expect(metaLink("https://jira.example.com/browse/{value}", "SHOP-1")).toBe("https://jira.example.com/browse/SHOP-1");
    expect(metaLink("https://x.test/${value}?a=1", "a b")).toBe("https://x.test/a%20b?a=1");
    expect(metaLink("javascript:{value}", "alert(1)")).toBeNull();
    expect(metaLink(null, "x")).toBeNull();
  });

  it("label, slug, order and time", () => {
    expect(statusLabel("ready_for_dev")).toBe("Ready for dev");
    expect(slugify("  Shop App (iOS)! ")).toBe("shop-app-ios");
    expect(moveItem(["a", "b", "c"], 2, 0)).toEqual(["c", "a", "b"]);
    expect(moveItem(["a", "b"], 0, -1)).toEqual(["a", "b"]);
    const now = new Date("2026-01-10T12:00:00Z");
    expect(relativeTime("2026-01-07T12:00:00Z", now)).toBe("3 days ago");
    expect(relativeTime(null, now)).toBe("never");
  });

  it("parse bulk field lines", () => {
    expect(parseBulkFields("screen_name:string*\n\n price : number \nflag:weird")).toEqual([
      { name: "screen_name", display_name: "screen_name", field_type: "string", is_required: true },
      { name: "price", display_name: "price", field_type: "number", is_required: false },
      { name: "flag", display_name: "flag", field_type: "string", is_required: false },
    ]);
  });
});
