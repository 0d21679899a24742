import { Link } from "react-router";
import { EmptyState } from "../components/EmptyState";

export function NotFoundPage() {
  return (
    <div className="page">
      <EmptyState title="Page not found" action={<Link className="btn btn-primary" to="/">Go to projects</Link>}>
        The address does not match any screen.
      </EmptyState>
    </div>
  );
}
