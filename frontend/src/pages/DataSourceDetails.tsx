import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { Badge } from "../components/Badge";
import { Dialog } from "../components/Dialog";
import { FormError } from "../components/Field";
import { Sparkline } from "../components/Sparkline";
import { formatDateTime } from "../lib/format";
import { HEALTH_TONES, sourceHealth } from "../lib/observe";

type Source = Schemas["DataSourceResponse"];
type Table = Schemas["TableSchema"];

const WINDOWS = [24, 168, 720];

/** Tables whose name or any column name contains the search (case-insensitive); matching columns only. */
export function filterSchema(tables: Table[], search: string): Table[] {
  const q = search.trim().toLowerCase();
  if (!q) return tables;
  return tables.flatMap((t) => {
    if (t.name.toLowerCase().includes(q)) return [t];
    const columns = t.columns.filter((c) => c.name.toLowerCase().includes(q));
    return columns.length ? [{ ...t, columns }] : [];
  });
}

export function DataSourceDetailsDialog({ source, onClose }: { source: Source; onClose: () => void }) {
  const health = sourceHealth(source);
  return (
    <Dialog open wide title={`Data source ${source.name}`} onClose={onClose}>
      <div className="stack">
        <p className="small">
          <Badge tone={HEALTH_TONES[health]}>{health}</Badge>{" "}
          <span className="muted">
            {source.last_test_at ? `Last tested ${formatDateTime(source.last_test_at)}` : "Never tested"}
            {source.last_test_message ? ` — ${source.last_test_message}` : ""}
          </span>
        </p>
        <SourceStats source={source} />
        <SchemaBrowser source={source} />
      </div>
    </Dialog>
  );
}

function SourceStats({ source }: { source: Source }) {
  const [hours, setHours] = useState(168);
  const stats = useQuery({
    queryKey: ["data-source-stats", source.id, hours],
    queryFn: () =>
      unwrap(api.GET("/api/v1/data-sources/{ds_id}/stats", { params: { path: { ds_id: source.id }, query: { window_hours: hours } } })),
  });
  return (
    <section aria-label="Usage">
      <div className="section-head">
        <h3>Usage</h3>
        <div className="segmented" role="group" aria-label="Stats window">
          {WINDOWS.map((h) => (
            <button key={h} type="button" className={h === hours ? "chip chip-on" : "chip"} aria-pressed={h === hours} onClick={() => setHours(h)}>
              {h < 48 ? `${h} h` : `${h / 24} days`}
            </button>
          ))}
        </div>
      </div>
      <FormError error={stats.error} />
      {stats.data && (
        <dl className="stats">
          <div>
            <dt>Events tracked</dt>
            <dd>{stats.data.events_tracked.toLocaleString("en")}</dd>
          </div>
          <div>
            <dt>Volume in window</dt>
            <dd>{stats.data.volume_window.toLocaleString("en")}</dd>
          </div>
          <div>
            <dt>Throughput</dt>
            <dd>
              {stats.data.throughput.length > 1 ? (
                <Sparkline values={stats.data.throughput.map((p) => p.count)} label={`Throughput over ${stats.data.window_hours} hours`} width={160} height={28} />
              ) : (
                <span className="muted small">no collected volume yet</span>
              )}
            </dd>
          </div>
        </dl>
      )}
    </section>
  );
}

function SchemaBrowser({ source }: { source: Source }) {
  const [search, setSearch] = useState("");
  const schema = useQuery({
    queryKey: ["data-source-schema", source.id],
    queryFn: () => unwrap(api.GET("/api/v1/data-sources/{ds_id}/schema", { params: { path: { ds_id: source.id } } })),
    retry: false,
  });
  const tables = useMemo(() => filterSchema(schema.data?.tables ?? [], search), [schema.data, search]);
  return (
    <section aria-label="Schema">
      <div className="section-head">
        <h3>Schema</h3>
        <input
          type="search"
          aria-label="Search tables and columns"
          placeholder="Search tables and columns"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          style={{ maxWidth: 280 }}
        />
      </div>
      {schema.isPending && <p className="muted small">Reading the warehouse's tables…</p>}
      {schema.error && (
        <p className="form-error" role="alert">
          {schema.error.message}
        </p>
      )}
      {schema.data && tables.length === 0 && (
        <p className="muted small">{search ? "No table or column matches." : "The warehouse has no tables."}</p>
      )}
      <div className="schema-list">
        {tables.map((t) => (
          <details key={t.name} open={Boolean(search) || tables.length <= 3}>
            <summary>
              <code>{t.name}</code> <span className="muted small">{t.columns.length} column{t.columns.length === 1 ? "" : "s"}</span>
            </summary>
            <table className="table table-compact" aria-label={`Columns of ${t.name}`}>
              <tbody>
                {t.columns.map((c) => (
                  <tr key={c.name}>
                    <td><code>{c.name}</code></td>
                    <td className="muted small">{c.data_type}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        ))}
      </div>
    </section>
  );
}
