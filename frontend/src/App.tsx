import { Navigate, Route, Routes } from "react-router";
import { LoginPage, SignupPage } from "./auth/AuthPages";
import { SessionProvider } from "./auth/session";
import { Layout } from "./components/Layout";
import { ApiKeysPage } from "./pages/ApiKeysPage";
import { DataSourcesPage } from "./pages/DataSourcesPage";
import { EventDetailPage } from "./pages/EventDetailPage";
import { EventsPage } from "./pages/EventsPage";
import { EventTypesPage } from "./pages/EventTypesPage";
import { MetaFieldsPage } from "./pages/MetaFieldsPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { ProjectSettingsPage } from "./pages/ProjectSettingsPage";
import { ProjectsPage } from "./pages/ProjectsPage";
import { RelationsPage } from "./pages/RelationsPage";
import { ScanDetailPage } from "./pages/ScanDetailPage";
import { ScansPage } from "./pages/ScansPage";
import { UsersPage } from "./pages/UsersPage";
import { VariablesPage } from "./pages/VariablesPage";

export function App() {
  return (
    <SessionProvider>
      <Routes>
        <Route path="/login" element={<LoginPage />} />
        <Route path="/signup" element={<SignupPage />} />
        <Route element={<Layout />}>
          <Route index element={<ProjectsPage />} />
          <Route path="users" element={<UsersPage />} />
          <Route path="api-keys" element={<ApiKeysPage />} />
          <Route path="data-sources" element={<DataSourcesPage />} />
          <Route path="p/:slug">
            <Route index element={<Navigate to="events" replace />} />
            <Route path="events" element={<EventsPage />} />
            <Route path="events/:eventId" element={<EventDetailPage />} />
            <Route path="event-types" element={<EventTypesPage />} />
            <Route path="meta-fields" element={<MetaFieldsPage />} />
            <Route path="variables" element={<VariablesPage />} />
            <Route path="relations" element={<RelationsPage />} />
            <Route path="scans" element={<ScansPage />} />
            <Route path="scans/:scanId" element={<ScanDetailPage />} />
            <Route path="settings" element={<ProjectSettingsPage />} />
          </Route>
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
    </SessionProvider>
  );
}
