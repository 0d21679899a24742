import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ApiError, errorMessage, unwrap, type Schemas } from "../api/client";
import { Badge } from "../components/Badge";
import { ConfirmDialog, Dialog } from "../components/Dialog";
import { EmptyState } from "../components/EmptyState";
import { Field, FormError } from "../components/Field";
import { PageHeader } from "../components/Layout";
import { Table } from "../components/Table";
import { useToast } from "../components/Toast";
import { formatDateTime, relativeTime } from "../lib/format";

type Key = Schemas["ApiKeyResponse"];

export function ApiKeysPage() {
  const client = useQueryClient();
  const notify = useToast();
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<Key | null>(null);
  const keys = useQuery({ queryKey: ["api-keys"], queryFn: () => unwrap(api.GET("/api/v1/me/api-keys")) });
  const projects = useQuery({ queryKey: ["projects"], queryFn: () => unwrap(api.GET("/api/v1/projects")) });
  const revoke = useMutation({
    mutationFn: (k: Key) => unwrap(api.DELETE("/api/v1/me/api-keys/{key_id}", { params: { path: { key_id: k.id } } })),
    onSuccess: () => {
      notify("API key revoked");
      setRevoking(null);
      client.invalidateQueries({ queryKey: ["api-keys"] });
    },
  });
  const projectName = (id: string | null) => (id ? projects.data?.find((p) => p.id === id)?.name ?? "a project" : "all projects");
  const newButton = (
    <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>New API key</button>
  );
  return (
    <div className="page">
      <PageHeader title="API keys" subtitle={<>Scripts and CI send <code>Authorization: Bearer tk_…</code>. Keys act as you.</>} actions={newButton} />
      <FormError error={keys.error} />
      {keys.data?.length === 0 && (
        <EmptyState title="No API keys" action={newButton}>Create a key to use the API or the CLI from scripts.</EmptyState>
      )}
      {keys.data && keys.data.length > 0 && (
        <Table
          rows={keys.data}
          rowKey={(k) => k.id}
          rowClassName={(k) => (k.revoked_at ? "row-muted" : undefined)}
          columns={[
            { key: "name", header: "Name", render: (k) => (<><div>{k.name}</div><code className="muted small">{k.key_prefix}…</code></>) },
            { key: "scope", header: "Scope", render: (k) => (<><Badge tone={k.scope === "write" ? "warning" : "neutral"}>{k.scope}</Badge> <span className="muted small">{projectName(k.project_id)}</span></>) },
            { key: "used", header: "Last used", render: (k) => <span className="small">{relativeTime(k.last_used_at)}</span> },
            { key: "expires", header: "Expires", render: (k) => <span className="small">{k.revoked_at ? <Badge tone="muted">revoked</Badge> : k.expires_at ? formatDateTime(k.expires_at) : "never"}</span> },
            { key: "actions", header: <span className="sr-only">Actions</span>, className: "right", render: (k) => !k.revoked_at && <button type="button" className="btn btn-ghost btn-xs danger-text" onClick={() => setRevoking(k)}>Revoke</button> },
          ]}
        />
      )}
      {creating && <CreateKeyDialog projects={projects.data ?? []} onClose={() => setCreating(false)} />}
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke API key?"
        message={<p>Scripts using “{revoking?.name}” will stop working immediately.</p>}
        confirmLabel="Revoke"
        danger
        busy={revoke.isPending}
        error={revoke.error ? errorMessage(revoke.error) : null}
        onConfirm={() => revoking && revoke.mutate(revoking)}
        onClose={() => setRevoking(null)}
      />
    </div>
  );
}

function CreateKeyDialog({ projects, onClose }: { projects: Schemas["ProjectResponse"][]; onClose: () => void }) {
  const client = useQueryClient();
  const [name, setName] = useState("");
  const [scope, setScope] = useState<Schemas["ApiKeyScope"]>("read");
  const [project, setProject] = useState("");
  const [days, setDays] = useState("");
  const [copied, setCopied] = useState(false);
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/me/api-keys", {
          body: { name, scope, project_slug: project || null, expires_in_days: days ? Number(days) : null },
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: ["api-keys"] }),
  });
  const token = create.data?.token;
  const copy = async () => {
    if (!token) return;
    try {
      await navigator.clipboard.writeText(token);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  const errors = create.error instanceof ApiError ? create.error.fields : {};
  if (token) {
    return (
      <Dialog open title="Your new API key" onClose={onClose} footer={<button type="button" className="btn btn-primary" onClick={onClose}>Done</button>}>
        <p className="notice">Copy the token now: it is shown only once and cannot be recovered.</p>
        <div className="token-box">
          <code data-testid="api-token">{token}</code>
          <button type="button" className="btn" onClick={copy}>{copied ? "Copied ✓" : "Copy"}</button>
        </div>
      </Dialog>
    );
  }
  return (
    <Dialog
      open
      title="New API key"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="submit" form="key-form" className="btn btn-primary" disabled={create.isPending}>Create key</button>
        </>
      }
    >
      <form id="key-form" className="form" onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
        <Field label="Name" hint="What will use it, e.g. “CI plan check”" error={errors.name}>
          <input required autoFocus value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label="Scope" error={errors.scope}>
          <select value={scope} onChange={(e) => setScope(e.target.value as Schemas["ApiKeyScope"])}>
            <option value="read">read — only reads</option>
            <option value="write">write — reads and changes, like you</option>
          </select>
        </Field>
        <Field label="Project" hint="Bind the key to one project, or leave it for all" error={errors.project_slug}>
          <select value={project} onChange={(e) => setProject(e.target.value)}>
            <option value="">All projects</option>
            {projects.map((p) => <option key={p.id} value={p.slug}>{p.name}</option>)}
          </select>
        </Field>
        <Field label="Expires in days" hint="Empty means never" error={errors.expires_in_days}>
          <input type="number" min={1} value={days} onChange={(e) => setDays(e.target.value)} />
        </Field>
        {!Object.keys(errors).length && <FormError error={create.error} />}
      </form>
    </Dialog>
  );
}
