import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate, useParams } from "react-router";
import { api, errorMessage, unwrap } from "../api/client";
import { useCanEdit } from "../auth/session";
import { ConfirmDialog } from "../components/Dialog";
import { FormError } from "../components/Field";
import { PageHeader } from "../components/Layout";
import { useToast } from "../components/Toast";
import { formatDateTime } from "../lib/format";
import { ProjectDialog } from "./ProjectsPage";

export function ProjectSettingsPage() {
  const { slug = "" } = useParams();
  const canEdit = useCanEdit();
  const client = useQueryClient();
  const navigate = useNavigate();
  const notify = useToast();
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const project = useQuery({
    queryKey: ["project", slug],
    queryFn: () => unwrap(api.GET("/api/v1/projects/{slug}", { params: { path: { slug } } })),
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/projects/{slug}", { params: { path: { slug } } })),
    onSuccess: () => {
      client.invalidateQueries({ queryKey: ["projects"] });
      notify("Project deleted");
      navigate("/");
    },
  });
  const p = project.data;
  return (
    <div className="page">
      <PageHeader
        title="Project settings"
        actions={
          canEdit &&
          p && (
            <button type="button" className="btn" onClick={() => setEditing(true)}>
              Edit project
            </button>
          )
        }
      />
      <FormError error={project.error} />
      {p && (
        <>
          <section className="card">
            <dl className="details">
              <dt>Name</dt>
              <dd>{p.name}</dd>
              <dt>Slug</dt>
              <dd>
                <code>{p.slug}</code>
              </dd>
              <dt>Description</dt>
              <dd>{p.description || <span className="muted">No description</span>}</dd>
              <dt>Created</dt>
              <dd>{formatDateTime(p.created_at)}</dd>
            </dl>
          </section>
          {canEdit && (
            <section className="card danger-zone">
              <h2>Delete this project</h2>
              <p className="muted">Removes the project with all its event types, events, photos and history.</p>
              <button type="button" className="btn btn-danger" onClick={() => setDeleting(true)}>
                Delete project
              </button>
            </section>
          )}
          {editing && <ProjectDialog open project={p} onClose={() => setEditing(false)} />}
          <ConfirmDialog
            open={deleting}
            title="Delete project?"
            message={
              <p>
                “{p.name}” and its whole plan will be deleted. This cannot be undone.
              </p>
            }
            confirmLabel="Delete project"
            danger
            busy={remove.isPending}
            error={remove.error ? errorMessage(remove.error) : null}
            onConfirm={() => remove.mutate()}
            onClose={() => setDeleting(false)}
          />
        </>
      )}
    </div>
  );
}
