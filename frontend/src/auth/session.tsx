import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { useLocation, useNavigate } from "react-router";
import { api, setUnauthorizedHandler, unwrap, type User } from "../api/client";

type Session = { user: User | null; loading: boolean; expired: boolean; clearExpired: () => void };
const SessionContext = createContext<Session>({ user: null, loading: true, expired: false, clearExpired: () => {} });

export const ME_KEY = ["me"] as const;

async function fetchMe(): Promise<User | null> {
  const result = await api.GET("/api/v1/auth/me");
  if (result.response.status === 401) return null;
  return unwrap(Promise.resolve(result));
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const location = useLocation();
  const [expired, setExpired] = useState(false);
  const me = useQuery({ queryKey: ME_KEY, queryFn: fetchMe, staleTime: 60_000, retry: false });

  useEffect(() => {
    setUnauthorizedHandler(() => {
      if (client.getQueryData(ME_KEY)) setExpired(true);
      client.setQueryData(ME_KEY, null);
      client.removeQueries({ predicate: (q) => q.queryKey[0] !== "me" });
      const next = window.location.pathname + window.location.search;
      if (!window.location.pathname.startsWith("/login"))
        navigate(`/login?next=${encodeURIComponent(next)}`, { replace: true });
    });
  }, [client, navigate]);

  useEffect(() => {
    if (me.data === null && !["/login", "/signup"].includes(location.pathname)) {
      const next = location.pathname + location.search;
      navigate(next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`, { replace: true });
    }
  }, [me.data, location.pathname, location.search, navigate]);

  return (
    <SessionContext.Provider
      value={{ user: me.data ?? null, loading: me.isPending, expired, clearExpired: () => setExpired(false) }}
    >
      {children}
    </SessionContext.Provider>
  );
}

export function useSession(): Session {
  return useContext(SessionContext);
}

/** Editors and owners change the plan; viewers only read (the API refuses them anyway). */
export function useCanEdit(): boolean {
  const { user } = useSession();
  return user?.role === "owner" || user?.role === "editor";
}
