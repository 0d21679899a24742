import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";

export function useEventTypes(slug: string) {
  return useQuery({
    queryKey: ["event-types", slug],
    queryFn: () => unwrap(api.GET("/api/v1/projects/{slug}/event-types", { params: { path: { slug } } })),
  });
}

export function useMetaFields(slug: string) {
  return useQuery({
    queryKey: ["meta-fields", slug],
    queryFn: () => unwrap(api.GET("/api/v1/projects/{slug}/meta-fields", { params: { path: { slug } } })),
  });
}

/** Every user; `fresh` refetches on mount (the users page), others reuse a minute-old list for names. */
export function useUsers({ fresh = false }: { fresh?: boolean } = {}) {
  return useQuery({
    queryKey: ["users"],
    queryFn: () => unwrap(api.GET("/api/v1/users", { params: { query: { limit: 500 } } })),
    staleTime: fresh ? 0 : 60_000,
  });
}

export function useTags(slug: string) {
  return useQuery({
    queryKey: ["tags", slug],
    queryFn: () => unwrap(api.GET("/api/v1/projects/{slug}/events/tags", { params: { path: { slug } } })),
  });
}
