import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { NavLink, Outlet, useNavigate, useParams } from "react-router";
import { api, unwrap } from "../api/client";
import { ME_KEY, useSession } from "../auth/session";
import { applyTheme, initialTheme, type Theme } from "../lib/theme";

const PROJECT_LINKS = [
  ["events", "Events"],
  ["event-types", "Event types"],
  ["meta-fields", "Meta fields"],
  ["variables", "Variables"],
  ["relations", "Relations"],
  ["scans", "Scans & volume"],
  ["settings", "Project settings"],
] as const;

export function Layout() {
  const { user } = useSession();
  const { slug } = useParams();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const projects = useQuery({
    queryKey: ["projects"],
    queryFn: () => unwrap(api.GET("/api/v1/projects")),
    enabled: Boolean(user),
  });
  const logout = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/auth/logout")),
    onSettled: () => {
      client.clear();
      client.setQueryData(ME_KEY, null);
      navigate("/login", { replace: true });
    },
  });
  if (!user) return <div className="page-loading">Loading…</div>;
  const toggleTheme = () => {
    const next = theme === "dark" ? "light" : "dark";
    applyTheme(next);
    setTheme(next);
  };
  const project = projects.data?.find((p) => p.slug === slug);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar" aria-label="Main navigation">
        <NavLink to="/" className="brand" end>
          <span className="brand-mark" aria-hidden>
            t
          </span>
          tripl
        </NavLink>
        <nav>
          <NavLink to="/" end className="nav-link">
            Projects
          </NavLink>
          {slug && (
            <div className="nav-group">
              <div className="nav-group-title" title={project?.name ?? slug}>
                {project?.name ?? slug}
              </div>
              {PROJECT_LINKS.map(([path, label]) => (
                <NavLink key={path} to={`/p/${slug}/${path}`} className="nav-link">
                  {label}
                </NavLink>
              ))}
            </div>
          )}
          <div className="nav-group">
            <div className="nav-group-title">Workspace</div>
            {user.role === "owner" && (
              <NavLink to="/users" className="nav-link">
                Users
              </NavLink>
            )}
            {user.role === "owner" && (
              <NavLink to="/data-sources" className="nav-link">
                Data sources
              </NavLink>
            )}
            <NavLink to="/api-keys" className="nav-link">
              API keys
            </NavLink>
          </div>
        </nav>
        <div className="sidebar-footer">
          <button type="button" className="btn btn-ghost btn-block" onClick={toggleTheme} aria-pressed={theme === "dark"}>
            {theme === "dark" ? "Light theme" : "Dark theme"}
          </button>
          <div className="user-chip" title={user.email}>
            <span className="avatar" aria-hidden>
              {(user.name || user.email).charAt(0).toUpperCase()}
            </span>
            <span className="user-chip-text">
              <span className="user-name">{user.name || user.email}</span>
              <span className="muted small">{user.role}</span>
            </span>
          </div>
          <button type="button" className="btn btn-block" onClick={() => logout.mutate()}>
            Sign out
          </button>
        </div>
      </aside>
      <main id="main" className="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}

export function PageHeader({ title, subtitle, actions }: { title: string; subtitle?: React.ReactNode; actions?: React.ReactNode }) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle && <p className="muted">{subtitle}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </header>
  );
}
