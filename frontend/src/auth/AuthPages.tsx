import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api, ApiError, unwrap } from "../api/client";
import { Field, FormError } from "../components/Field";
import { ME_KEY, useSession } from "./session";

function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

function AuthFrame({ title, subtitle, children }: { title: string; subtitle: string; children: React.ReactNode }) {
  return (
    <main className="auth-page">
      <div className="auth-card">
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden>
            t
          </span>
          tripl
        </div>
        <h1>{title}</h1>
        <p className="muted">{subtitle}</p>
        {children}
      </div>
    </main>
  );
}

export function LoginPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const client = useQueryClient();
  const { expired, clearExpired } = useSession();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const status = useQuery({
    queryKey: ["auth-status"],
    queryFn: () => unwrap(api.GET("/api/v1/auth/status")),
  });
  const login = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/auth/login", { body: { email, password } })),
    onSuccess: (user) => {
      clearExpired();
      client.setQueryData(ME_KEY, user);
      navigate(safeNext(params.get("next")), { replace: true });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate();
  };
  if (status.data && !status.data.has_users) {
    return (
      <AuthFrame title="Welcome to tripl" subtitle="No account exists yet on this instance.">
        <Link className="btn btn-primary btn-block" to="/signup">
          Create the owner account
        </Link>
      </AuthFrame>
    );
  }
  const fields = login.error instanceof ApiError ? login.error.fields : {};
  return (
    <AuthFrame title="Sign in" subtitle="Your tracking plan, in one place.">
      {expired && (
        <p className="notice" role="status">
          Your session has expired. Sign in again to continue.
        </p>
      )}
      <form onSubmit={submit} className="form">
        <Field label="Email" error={fields.email}>
          <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <Field label="Password" error={fields.password}>
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
        {!Object.keys(fields).length && <FormError error={login.error} />}
        <button className="btn btn-primary btn-block" disabled={login.isPending}>
          {login.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
      {status.data?.registration_enabled && (
        <p className="muted small center">
          No account? <Link to="/signup">Sign up</Link>
        </p>
      )}
    </AuthFrame>
  );
}

export function SignupPage() {
  const navigate = useNavigate();
  const client = useQueryClient();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const status = useQuery({ queryKey: ["auth-status"], queryFn: () => unwrap(api.GET("/api/v1/auth/status")) });
  const register = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/auth/register", { body: { email, password, name: name || null } })),
    onSuccess: (user) => {
      client.setQueryData(ME_KEY, user);
      client.invalidateQueries({ queryKey: ["auth-status"] });
      navigate("/", { replace: true });
    },
  });
  const first = status.data ? !status.data.has_users : false;
  const fields = register.error instanceof ApiError ? register.error.fields : {};
  return (
    <AuthFrame
      title={first ? "Create the owner account" : "Create your account"}
      subtitle={
        first
          ? "The first account owns this instance: it manages users, roles and data sources."
          : "An owner of this instance decides what your account may change."
      }
    >
      {status.data && !status.data.registration_enabled && status.data.has_users ? (
        <p className="notice">Sign-up is disabled on this instance. Ask an owner for an account.</p>
      ) : (
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            register.mutate();
          }}
        >
          <Field label="Name" error={fields.name}>
            <input autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field label="Email" error={fields.email}>
            <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </Field>
          <Field label="Password" hint="At least 8 characters." error={fields.password}>
            <input
              type="password"
              autoComplete="new-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </Field>
          {!Object.keys(fields).length && <FormError error={register.error} />}
          <button className="btn btn-primary btn-block" disabled={register.isPending}>
            {register.isPending ? "Creating…" : "Create account"}
          </button>
        </form>
      )}
      <p className="muted small center">
        Already have an account? <Link to="/login">Sign in</Link>
      </p>
    </AuthFrame>
  );
}
