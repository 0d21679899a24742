import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { api, errorMessage, unwrap, uploadPhoto, type Photo } from "../api/client";
import { ConfirmDialog, Dialog } from "../components/Dialog";
import { Field, FormError } from "../components/Field";
import { useToast } from "../components/Toast";
import { moveItem, relativeTime } from "../lib/format";

type Props = { slug: string; eventId: string; canEdit: boolean };

export function PhotosSection({ slug, eventId, canEdit }: Props) {
  const client = useQueryClient();
  const notify = useToast();
  const path = { path: { slug, event_id: eventId } };
  const key = ["photos", slug, eventId];
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [figmaOpen, setFigmaOpen] = useState(false);
  const [deleting, setDeleting] = useState<Photo | null>(null);
  const [commentsFor, setCommentsFor] = useState<Photo | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const photos = useQuery({
    queryKey: key,
    queryFn: () => unwrap(api.GET("/api/v1/projects/{slug}/events/{event_id}/photos", { params: path })),
  });
  useEffect(() => {
    if (!file) return setPreview(null);
    const url = URL.createObjectURL(file);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [file]);
  const changed = () => {
    client.invalidateQueries({ queryKey: key });
    client.invalidateQueries({ queryKey: ["history", slug, eventId] });
  };
  const upload = useMutation({
    mutationFn: (f: File) => uploadPhoto(slug, eventId, f),
    onSuccess: () => {
      notify("Photo uploaded");
      setFile(null);
      if (input.current) input.current.value = "";
      changed();
    },
  });
  const reorder = useMutation({
    mutationFn: (ids: string[]) =>
      unwrap(
        api.PATCH("/api/v1/projects/{slug}/events/{event_id}/photos/reorder", { params: path, body: { photo_ids: ids } }),
      ),
    onSuccess: changed,
    onError: (e) => notify(errorMessage(e), "error"),
  });
  const remove = useMutation({
    mutationFn: (photo: Photo) =>
      unwrap(
        api.DELETE("/api/v1/projects/{slug}/events/{event_id}/photos/{photo_id}", {
          params: { path: { slug, event_id: eventId, photo_id: photo.id } },
        }),
      ),
    onSuccess: () => {
      notify("Photo deleted");
      setDeleting(null);
      changed();
    },
  });
  const list = photos.data ?? [];
  const shift = (index: number, by: number) => reorder.mutate(moveItem(list.map((p) => p.id), index, index + by));

  return (
    <section className="card">
      <div className="section-head">
        <h2>Screens &amp; designs</h2>
        {canEdit && (
          <div className="page-actions">
            <label className="btn">
              Choose image…
              <input
                ref={input}
                type="file"
                accept="image/png,image/jpeg,image/gif,image/webp"
                className="visually-hidden-input"
                aria-label="Choose an image to upload"
                onChange={(e) => {
                  upload.reset();
                  setFile(e.target.files?.[0] ?? null);
                }}
              />
            </label>
            <button type="button" className="btn" onClick={() => setFigmaOpen(true)}>
              Add Figma link
            </button>
          </div>
        )}
      </div>
      {preview && file && (
        <div className="upload-preview">
          <img src={preview} alt={`Preview of ${file.name}`} />
          <div>
            <div>{file.name}</div>
            <div className="muted small">{Math.ceil(file.size / 1024)} KB</div>
            <div className="page-actions">
              <button type="button" className="btn btn-primary" disabled={upload.isPending} onClick={() => upload.mutate(file)}>
                {upload.isPending ? "Uploading…" : "Upload"}
              </button>
              <button type="button" className="btn btn-ghost" onClick={() => setFile(null)}>
                Cancel
              </button>
            </div>
            <FormError error={upload.error} />
          </div>
        </div>
      )}
      <FormError error={photos.error} />
      {photos.data && list.length === 0 && (
        <p className="muted">No screenshots yet{canEdit ? ": upload one so developers see where the event fires." : "."}</p>
      )}
      <ul className="photo-grid">
        {list.map((p, i) => (
          <li key={p.id} className="photo">
            {p.kind === "figma" ? (
              <a className="figma-tile" href={p.url} target="_blank" rel="noreferrer noopener">
                <span className="figma-logo" aria-hidden>
                  ◆
                </span>
                <span>{p.title || "Figma design"}</span>
              </a>
            ) : (
              <a href={p.url} target="_blank" rel="noreferrer noopener">
                <img src={p.url} alt={p.title || p.original_filename} loading="lazy" />
              </a>
            )}
            <div className="photo-meta">
              <span className="small clamp-1" title={p.original_filename}>
                {p.title || p.original_filename || "Figma"}
              </span>
              <span className="muted small">{relativeTime(p.created_at)}</span>
            </div>
            <div className="photo-actions">
              <button type="button" className="btn btn-ghost btn-xs" onClick={() => setCommentsFor(p)}>
                Comments
              </button>
              {canEdit && (
                <>
                  <button type="button" className="btn btn-ghost btn-xs" aria-label="Move earlier" disabled={i === 0} onClick={() => shift(i, -1)}>
                    ←
                  </button>
                  <button
                    type="button"
                    className="btn btn-ghost btn-xs"
                    aria-label="Move later"
                    disabled={i === list.length - 1}
                    onClick={() => shift(i, 1)}
                  >
                    →
                  </button>
                  <button type="button" className="btn btn-ghost btn-xs danger-text" onClick={() => setDeleting(p)}>
                    Delete
                  </button>
                </>
              )}
            </div>
          </li>
        ))}
      </ul>
      {figmaOpen && <FigmaDialog slug={slug} eventId={eventId} onClose={() => setFigmaOpen(false)} onSaved={changed} />}
      {commentsFor && (
        <CommentsDialog slug={slug} eventId={eventId} photo={commentsFor} canEdit={canEdit} onClose={() => setCommentsFor(null)} />
      )}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete photo?"
        message={<p>The image and its comments will be deleted.</p>}
        confirmLabel="Delete photo"
        danger
        busy={remove.isPending}
        error={remove.error ? errorMessage(remove.error) : null}
        onConfirm={() => deleting && remove.mutate(deleting)}
        onClose={() => setDeleting(null)}
      />
    </section>
  );
}

function FigmaDialog({ slug, eventId, onClose, onSaved }: { slug: string; eventId: string; onClose: () => void; onSaved: () => void }) {
  const [url, setUrl] = useState("");
  const [title, setTitle] = useState("");
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/projects/{slug}/events/{event_id}/photos/figma", {
          params: { path: { slug, event_id: eventId } },
          body: { url, title },
        }),
      ),
    onSuccess: () => {
      onSaved();
      onClose();
    },
  });
  return (
    <Dialog
      open
      title="Link a Figma design"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="figma-form" className="btn btn-primary" disabled={save.isPending}>
            Add link
          </button>
        </>
      }
    >
      <form
        id="figma-form"
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Field label="Figma URL" hint="https://www.figma.com/design/…">
          <input required type="url" autoFocus value={url} onChange={(e) => setUrl(e.target.value)} />
        </Field>
        <Field label="Title">
          <input value={title} onChange={(e) => setTitle(e.target.value)} />
        </Field>
        <FormError error={save.error} />
      </form>
    </Dialog>
  );
}

function CommentsDialog(props: { slug: string; eventId: string; photo: Photo; canEdit: boolean; onClose: () => void }) {
  const client = useQueryClient();
  const [body, setBody] = useState("");
  const path = { path: { slug: props.slug, event_id: props.eventId, photo_id: props.photo.id } };
  const key = ["photo-comments", props.photo.id];
  const comments = useQuery({
    queryKey: key,
    queryFn: () => unwrap(api.GET("/api/v1/projects/{slug}/events/{event_id}/photos/{photo_id}/comments", { params: path })),
  });
  const add = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/projects/{slug}/events/{event_id}/photos/{photo_id}/comments", { params: path, body: { body } })),
    onSuccess: () => {
      setBody("");
      client.invalidateQueries({ queryKey: key });
    },
  });
  return (
    <Dialog open title={`Comments on ${props.photo.title || props.photo.original_filename || "photo"}`} onClose={props.onClose}>
      <FormError error={comments.error} />
      {comments.data?.length === 0 && <p className="muted">No comments yet.</p>}
      <ul className="comments">
        {comments.data?.map((c) => (
          <li key={c.id}>
            <p>{c.body}</p>
            <span className="muted small">{relativeTime(c.created_at)}</span>
          </li>
        ))}
      </ul>
      {props.canEdit && (
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate();
          }}
        >
          <Field label="Add a comment">
            <textarea rows={2} required value={body} onChange={(e) => setBody(e.target.value)} />
          </Field>
          <FormError error={add.error} />
          <button className="btn btn-primary" disabled={add.isPending}>
            Comment
          </button>
        </form>
      )}
    </Dialog>
  );
}
