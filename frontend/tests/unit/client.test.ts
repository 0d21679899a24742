import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, setUnauthorizedHandler, unwrap, uploadPhoto } from "../../src/api/client";

function answer(status: number, body: unknown) {
  return vi.fn(async () => new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  }));
}

describe("API client", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    setUnauthorizedHandler(() => {});
  });

  it("reports an expired session once a protected route answers 401", async () => {
    const expired = vi.fn();
    setUnauthorizedHandler(expired);
    vi.stubGlobal("fetch", answer(401, { detail: "Authentication required" }));
    await expect(unwrap(api.GET("/api/v1/projects"))).rejects.toThrow("Authentication required");
    expect(expired).toHaveBeenCalledOnce();
  });

  it("does not treat a failed sign-in as an expired session", async () => {
    const expired = vi.fn();
    setUnauthorizedHandler(expired);
    vi.stubGlobal("fetch", answer(401, { detail: "Invalid email or password" }));
    const error = await unwrap(api.POST("/api/v1/auth/login", { body: { email: "a@b.c", password: "x" } })).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toBe("Invalid email or password");
    expect(expired).not.toHaveBeenCalled();
  });

  it("sends repeated query keys for list filters", async () => {
    const fetch = answer(200, { items: [], total: 0 });
    vi.stubGlobal("fetch", fetch);
    await unwrap(api.GET("/api/v1/projects/{slug}/events", { params: { path: { slug: "shop" }, query: { status: ["draft", "live"], limit: 100 } } }));
    const request = (fetch.mock.calls[0] as unknown as [Request])[0];
    expect(new URL(request.url).search).toBe("?status=draft&status=live&limit=100");
  });

  it("uploads photos as multipart and maps the API's refusal", async () => {
    const fetch = answer(413, { detail: "Photo is larger than 10 MB" });
    vi.stubGlobal("fetch", fetch);
    const file = new File(["png"], "a.png", { type: "image/png" });
    await expect(uploadPhoto("shop", "e1", file)).rejects.toThrow("Photo is larger than 10 MB");
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/v1/projects/shop/events/e1/photos");
    expect(init.body).toBeInstanceOf(FormData);
  });

  it("says so when the server cannot be reached", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => { throw new TypeError("Failed to fetch"); }));
    await expect(unwrap(api.GET("/api/v1/projects"))).rejects.toThrow("The server could not be reached");
  });
});
