import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useParams } from "react-router";
import { api, errorMessage, unwrap } from "../api/client";
import { useCanEdit } from "../auth/session";
import { Dialog } from "../components/Dialog";
import { EmptyState } from "../components/EmptyState";
import { Field, FormError } from "../components/Field";
import { PageHeader } from "../components/Layout";
import { Table } from "../components/Table";
import { useToast } from "../components/Toast";
import { useEventTypes } from "../lib/queries";

export function RelationsPage() {
  const { slug = "" } = useParams();
  const canEdit = useCanEdit();
  const client = useQueryClient();
  const notify = useToast();
  const types = useEventTypes(slug);
  const [creating, setCreating] = useState(false);
  const relations = useQuery({
    queryKey: ["relations", slug],
    queryFn: () => unwrap(api.GET("/api/v1/projects/{slug}/relations", { params: { path: { slug } } })),
  });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/v1/projects/{slug}/relations/{relation_id}", { params: { path: { slug, relation_id: id } } })),
    onSuccess: () => {
      notify("Relation deleted");
      client.invalidateQueries({ queryKey: ["relations", slug] });
    },
    onError: (e) => notify(errorMessage(e), "error"),
  });
  const typeById = new Map(types.data?.map((t) => [t.id, t]));
  const fieldName = (typeId: string, fieldId: string) =>
    typeById.get(typeId)?.field_definitions?.find((f) => f.id === fieldId)?.name ?? "?";
  const newButton = canEdit && (types.data?.length ?? 0) > 0 && (
    <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>New relation</button>
  );
  return (
    <div className="page">
      <PageHeader title="Relations" subtitle="How event types join: a field of one matches a field of another." actions={newButton} />
      <FormError error={relations.error} />
      {relations.data?.length === 0 && (
        <EmptyState title="No relations" action={newButton}>
          Link e.g. <code>purchase.order_id</code> to <code>checkout.order_id</code> to document how events connect.
        </EmptyState>
      )}
      {relations.data && relations.data.length > 0 && (
        <Table
          rows={relations.data}
          rowKey={(r) => r.id}
          columns={[
            { key: "source", header: "From", render: (r) => <code>{typeById.get(r.source_event_type_id)?.name}.{fieldName(r.source_event_type_id, r.source_field_id)}</code> },
            { key: "type", header: "Relation", render: (r) => <span className="muted">{r.relation_type || "relates to"} →</span> },
            { key: "target", header: "To", render: (r) => <code>{typeById.get(r.target_event_type_id)?.name}.{fieldName(r.target_event_type_id, r.target_field_id)}</code> },
            { key: "description", header: "Description", render: (r) => r.description || <span className="muted">—</span> },
            ...(canEdit
              ? [{ key: "actions", header: <span className="sr-only">Actions</span>, className: "right", render: (r: { id: string }) => <button type="button" className="btn btn-ghost btn-xs danger-text" onClick={() => remove.mutate(r.id)}>Delete</button> }]
              : []),
          ]}
        />
      )}
      {creating && types.data && <RelationDialog slug={slug} onClose={() => setCreating(false)} />}
    </div>
  );
}

function RelationDialog({ slug, onClose }: { slug: string; onClose: () => void }) {
  const client = useQueryClient();
  const types = useEventTypes(slug);
  const [sourceType, setSourceType] = useState("");
  const [sourceField, setSourceField] = useState("");
  const [targetType, setTargetType] = useState("");
  const [targetField, setTargetField] = useState("");
  const [relationType, setRelationType] = useState("");
  const [description, setDescription] = useState("");
  const fieldsOf = (id: string) => types.data?.find((t) => t.id === id)?.field_definitions ?? [];
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/projects/{slug}/relations", {
          params: { path: { slug } },
          body: {
            source_event_type_id: sourceType,
            source_field_id: sourceField,
            target_event_type_id: targetType,
            target_field_id: targetField,
            relation_type: relationType,
            description,
          },
        }),
      ),
    onSuccess: () => {
      client.invalidateQueries({ queryKey: ["relations", slug] });
      onClose();
    },
  });
  const typeSelect = (value: string, set: (v: string) => void, reset: () => void) => (
    <select required value={value} onChange={(e) => { set(e.target.value); reset(); }}>
      <option value="">Choose…</option>
      {types.data?.map((t) => <option key={t.id} value={t.id}>{t.display_name}</option>)}
    </select>
  );
  const fieldSelect = (typeId: string, value: string, set: (v: string) => void) => (
    <select required value={value} onChange={(e) => set(e.target.value)} disabled={!typeId}>
      <option value="">Choose…</option>
      {fieldsOf(typeId).map((f) => <option key={f.id} value={f.id}>{f.name}</option>)}
    </select>
  );
  return (
    <Dialog
      open
      title="New relation"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="submit" form="relation-form" className="btn btn-primary" disabled={save.isPending}>Create relation</button>
        </>
      }
    >
      <form id="relation-form" className="form form-grid" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <Field label="From event type">{typeSelect(sourceType, setSourceType, () => setSourceField(""))}</Field>
        <Field label="From field">{fieldSelect(sourceType, sourceField, setSourceField)}</Field>
        <Field label="To event type">{typeSelect(targetType, setTargetType, () => setTargetField(""))}</Field>
        <Field label="To field">{fieldSelect(targetType, targetField, setTargetField)}</Field>
        <Field label="Relation type" hint="e.g. one_to_many">
          <input value={relationType} onChange={(e) => setRelationType(e.target.value)} />
        </Field>
        <Field label="Description">
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <div className="span-2"><FormError error={save.error} /></div>
      </form>
    </Dialog>
  );
}
