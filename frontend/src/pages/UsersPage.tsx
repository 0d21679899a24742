import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, errorMessage, unwrap, type Role } from "../api/client";
import { useSession } from "../auth/session";
import { EmptyState } from "../components/EmptyState";
import { FormError } from "../components/Field";
import { PageHeader } from "../components/Layout";
import { Table } from "../components/Table";
import { useToast } from "../components/Toast";
import { formatDateTime } from "../lib/format";
import { useUsers } from "../lib/queries";

const ROLES: { role: Role; help: string }[] = [
  { role: "owner", help: "everything, including users and data sources" },
  { role: "editor", help: "changes the plan" },
  { role: "viewer", help: "reads only" },
];

export function UsersPage() {
  const { user } = useSession();
  const client = useQueryClient();
  const notify = useToast();
  const users = useUsers({ fresh: true });
  const setRole = useMutation({
    mutationFn: ({ id, role }: { id: string; role: Role }) =>
      unwrap(api.PATCH("/api/v1/users/{user_id}", { params: { path: { user_id: id } }, body: { role } })),
    onSuccess: (u) => {
      notify(`${u.email} is now ${/^[aeiou]/.test(u.role) ? "an" : "a"} ${u.role}`);
      client.invalidateQueries({ queryKey: ["users"] });
    },
    onError: (e) => notify(errorMessage(e), "error"),
  });
  if (user?.role !== "owner") {
    return (
      <div className="page">
        <EmptyState title="Owners only">Only owners manage users and roles.</EmptyState>
      </div>
    );
  }
  return (
    <div className="page">
      <PageHeader
        title="Users"
        subtitle={ROLES.map((r) => `${r.role}: ${r.help}`).join(" · ")}
      />
      <FormError error={users.error} />
      {users.data && (
        <Table
          rows={users.data}
          rowKey={(u) => u.id}
          columns={[
            {
              key: "user",
              header: "User",
              render: (u) => (
                <span className="user-cell">
                  <span className="avatar" aria-hidden>{(u.name || u.email).charAt(0).toUpperCase()}</span>
                  <span>
                    <div>{u.name || u.email}{u.id === user.id && <span className="muted small"> (you)</span>}</div>
                    <div className="muted small">{u.email}</div>
                  </span>
                </span>
              ),
            },
            {
              key: "role",
              header: "Role",
              render: (u) => (
                <select
                  aria-label={`Role of ${u.email}`}
                  value={u.role}
                  disabled={setRole.isPending}
                  onChange={(e) => setRole.mutate({ id: u.id, role: e.target.value as Role })}
                >
                  {ROLES.map((r) => <option key={r.role} value={r.role}>{r.role}</option>)}
                </select>
              ),
            },
            { key: "created", header: "Joined", render: (u) => <span className="small">{formatDateTime(u.created_at)}</span> },
          ]}
        />
      )}
    </div>
  );
}
