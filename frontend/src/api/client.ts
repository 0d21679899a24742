import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type User = Schemas["AuthUserResponse"];
export type Project = Schemas["ProjectResponse"];
export type EventItem = Schemas["EventListItemResponse"];
export type EventDetail = Schemas["EventResponse"];
export type EventType = Schemas["EventTypeResponse"];
export type FieldDef = Schemas["FieldDefinitionResponse"];
export type MetaField = Schemas["MetaFieldResponse"];
export type Variable = Schemas["VariableResponse"];
export type Relation = Schemas["RelationResponse"];
export type EventStatus = Schemas["EventStatus"];
export type Photo = Schemas["EventPhotoResponse"];
export type Role = Schemas["UserRole"];

/** Called when an authenticated request answers 401: the session expired or was revoked. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

const PUBLIC_PATHS = ["/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/auth/status", "/api/v1/auth/me"];

const sessionMiddleware: Middleware = {
  onResponse({ request, response }) {
    const path = new URL(request.url, window.location.origin).pathname;
    if (response.status === 401 && !PUBLIC_PATHS.includes(path)) onUnauthorized();
    return response;
  },
};

export const api = createClient<paths>({
  baseUrl: window.location.origin,
  credentials: "same-origin",
  fetch: (request) => globalThis.fetch(request), // looked up per call, so tests can stand in for the server
});
api.use(sessionMiddleware);

type ValidationItem = { loc: (string | number)[]; msg: string };

/** An API error with a readable message and, for 422s, the message of each offending field. */
export class ApiError extends Error {
  status: number;
  fields: Record<string, string>;
  constructor(status: number, message: string, fields: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.fields = fields;
  }
}

export function toApiError(status: number, body: unknown): ApiError {
  const detail = (body as { detail?: unknown } | undefined)?.detail;
  if (typeof detail === "string") return new ApiError(status, detail);
  if (Array.isArray(detail)) {
    const fields: Record<string, string> = {};
    const lines = (detail as ValidationItem[]).map((item) => {
      const loc = item.loc.filter((part) => part !== "body" && part !== "query");
      const key = loc.map(String).join(".");
      const msg = item.msg.replace(/^Value error, /, "");
      if (key) fields[key] = msg;
      return key ? `${key}: ${msg}` : msg;
    });
    return new ApiError(status, lines.join("; "), fields);
  }
  if (status === 0) return new ApiError(0, "The server could not be reached");
  return new ApiError(status, `Request failed (HTTP ${status})`);
}

/** Unwraps an openapi-fetch result: the data, or a thrown ApiError. */
export async function unwrap<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result;
  try {
    result = await pending;
  } catch {
    throw new ApiError(0, "The server could not be reached");
  }
  if (result.error !== undefined || !result.response.ok) throw toApiError(result.response.status, result.error);
  return result.data as T;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Multipart upload: openapi-fetch serialises JSON bodies, so photos go through fetch directly. */
export async function uploadPhoto(slug: string, eventId: string, file: File): Promise<Photo> {
  const form = new FormData();
  form.append("file", file);
  const response = await fetch(`/api/v1/projects/${encodeURIComponent(slug)}/events/${eventId}/photos`, {
    method: "POST",
    body: form,
    credentials: "same-origin",
  });
  const body: unknown = await response.json().catch(() => undefined);
  if (response.status === 401) onUnauthorized();
  if (!response.ok) throw toApiError(response.status, body);
  return body as Photo;
}
