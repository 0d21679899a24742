import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, ApiError, unwrap, type Project } from "../api/client";
import { useCanEdit } from "../auth/session";
import { Badge } from "../components/Badge";
import { Dialog } from "../components/Dialog";
import { EmptyState } from "../components/EmptyState";
import { Field, FormError } from "../components/Field";
import { PageHeader } from "../components/Layout";
import { useToast } from "../components/Toast";
import { relativeTime, slugify } from "../lib/format";

export function ProjectsPage() {
  const canEdit = useCanEdit();
  const [creating, setCreating] = useState(false);
  const projects = useQuery({ queryKey: ["projects"], queryFn: () => unwrap(api.GET("/api/v1/projects")) });
  const client = useQueryClient();
  const navigate = useNavigate();
  const notify = useToast();
  const demo = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/projects/demo")),
    onSuccess: (p) => {
      client.invalidateQueries({ queryKey: ["projects"] });
      notify(`Demo project “${p.name}” generated`);
      navigate(`/p/${p.slug}/events`);
    },
  });
  const createButton = canEdit && (
    <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
      New project
    </button>
  );
  return (
    <div className="page">
      <PageHeader title="Projects" subtitle="Each project holds one product's tracking plan." actions={createButton} />
      {projects.isPending && <div className="skeleton-grid" aria-busy />}
      <FormError error={projects.error ?? demo.error} />
      {projects.data?.length === 0 && (
        <EmptyState
          title="No projects yet"
          action={
            canEdit && (
              <div className="page-actions">
                {createButton}
                <button type="button" className="btn" disabled={demo.isPending} onClick={() => demo.mutate()}>
                  {demo.isPending ? "Generating demo project…" : "Generate demo project"}
                </button>
              </div>
            )
          }
        >
          {canEdit
            ? "Create a project to start describing the events your product sends, or generate a demo project with a sample warehouse to look around."
            : "An editor or owner has to create the first project."}
        </EmptyState>
      )}
      <div className="card-grid">
        {projects.data?.map((p) => <ProjectCard key={p.id} project={p} />)}
      </div>
      <ProjectDialog open={creating} onClose={() => setCreating(false)} />
    </div>
  );
}

function ProjectCard({ project }: { project: Project }) {
  const s = project.summary;
  const stats: [string, number | undefined][] = [
    ["Events", s.event_count],
    ["Event types", s.event_type_count],
    ["Live / active", s.active_event_count],
    ["In review", s.review_pending_event_count],
    ["Variables", s.variable_count],
    ["Scans", s.scan_count],
  ];
  return (
    <Link to={`/p/${project.slug}/events`} className="card project-card">
      <div className="project-card-head">
        <h2>{project.name}</h2>
        <code className="muted small">{project.slug}</code>
      </div>
      {project.description && <p className="muted clamp-2">{project.description}</p>}
      <dl className="stats">
        {stats.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value ?? 0}</dd>
          </div>
        ))}
      </dl>
      {s.latest_scan_job && (
        <div className="small">
          Last scan{" "}
          <Badge tone={s.latest_scan_job.status === "completed" ? "success" : s.latest_scan_job.status === "failed" ? "danger" : "info"}>
            {s.latest_scan_job.status}
          </Badge>{" "}
          <span className="muted">{relativeTime(s.latest_scan_job.completed_at ?? s.latest_scan_job.created_at)}</span>
        </div>
      )}
      {s.latest_signal && (
        <div className="small">
          <Badge tone="warning">signal</Badge> {s.latest_signal.scope_name}: {s.latest_signal.actual_count} vs ~
          {Math.round(s.latest_signal.expected_count)} expected
        </div>
      )}
      <div className="muted small">Updated {relativeTime(project.updated_at)}</div>
    </Link>
  );
}

export function ProjectDialog({ open, onClose, project }: { open: boolean; onClose: () => void; project?: Project }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const notify = useToast();
  const [name, setName] = useState(project?.name ?? "");
  const [slug, setSlug] = useState(project?.slug ?? "");
  const [slugTouched, setSlugTouched] = useState(Boolean(project));
  const [description, setDescription] = useState(project?.description ?? "");
  const save = useMutation({
    mutationFn: () =>
      project
        ? unwrap(
            api.PATCH("/api/v1/projects/{slug}", {
              params: { path: { slug: project.slug } },
              body: { name, slug, description },
            }),
          )
        : unwrap(api.POST("/api/v1/projects", { body: { name, slug, description } })),
    onSuccess: (saved) => {
      client.invalidateQueries({ queryKey: ["projects"] });
      notify(project ? "Project saved" : `Project “${saved.name}” created`);
      onClose();
      if (!project || saved.slug !== project.slug) navigate(`/p/${saved.slug}/${project ? "settings" : "events"}`);
    },
  });
  const fields = save.error instanceof ApiError ? save.error.fields : {};
  return (
    <Dialog
      open={open}
      title={project ? "Edit project" : "New project"}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="project-form" className="btn btn-primary" disabled={save.isPending}>
            {save.isPending ? "Saving…" : project ? "Save" : "Create project"}
          </button>
        </>
      }
    >
      <form
        id="project-form"
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Field label="Name" error={fields.name}>
          <input
            required
            autoFocus
            value={name}
            onChange={(e) => {
              setName(e.target.value);
              if (!slugTouched) setSlug(slugify(e.target.value));
            }}
          />
        </Field>
        <Field label="Slug" hint="Lower-case letters, digits and dashes; used in URLs and the API." error={fields.slug}>
          <input
            required
            value={slug}
            onChange={(e) => {
              setSlugTouched(true);
              setSlug(e.target.value);
            }}
          />
        </Field>
        <Field label="Description" error={fields.description}>
          <textarea rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        {!Object.keys(fields).length && <FormError error={save.error} />}
      </form>
    </Dialog>
  );
}
