import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { StatusBadge } from "../../src/components/Badge";
import { ConfirmDialog } from "../../src/components/Dialog";
import { EmptyState } from "../../src/components/EmptyState";
import { Field } from "../../src/components/Field";
import { Table } from "../../src/components/Table";
import { ToastProvider, useToast } from "../../src/components/Toast";

describe("components", () => {
  it("Field links its label, and shows the API's message instead of the hint", () => {
    const { rerender } = render(
      <Field label="Slug" hint="Lower-case letters">
        <input />
      </Field>,
    );
    expect(screen.getByLabelText("Slug")).toHaveAccessibleDescription("Lower-case letters");
    rerender(
      <Field label="Slug" hint="Lower-case letters" error="String should match pattern">
        <input />
      </Field>,
    );
    expect(screen.getByLabelText("Slug")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByRole("alert")).toHaveTextContent("String should match pattern");
  });

  it("StatusBadge shows a readable status", () => {
    render(<StatusBadge status="in_review" />);
    expect(screen.getByText("In review")).toHaveClass("badge-warning");
  });

  it("Table renders rows through column renderers", () => {
    render(
      <Table
        rows={[{ id: "1", name: "checkout" }]}
        rowKey={(r) => r.id}
        columns={[{ key: "name", header: "Name", render: (r) => <b>{r.name}</b> }]}
      />,
    );
    expect(screen.getByRole("columnheader", { name: "Name" })).toBeInTheDocument();
    expect(screen.getByRole("cell", { name: "checkout" })).toBeInTheDocument();
  });

  it("EmptyState tells what to do next", () => {
    render(<EmptyState title="No events yet" action={<button>Add the first event</button>}>Add events.</EmptyState>);
    expect(screen.getByRole("heading", { name: "No events yet" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Add the first event" })).toBeInTheDocument();
  });

  it("ConfirmDialog confirms, cancels and shows the API error", async () => {
    const onConfirm = vi.fn();
    const onClose = vi.fn();
    render(
      <ConfirmDialog open title="Delete?" message="Sure?" confirmLabel="Delete 2" danger error="Forbidden" onConfirm={onConfirm} onClose={onClose} />,
    );
    await userEvent.click(screen.getByRole("button", { name: "Delete 2" }));
    await userEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(onConfirm).toHaveBeenCalledOnce();
    expect(onClose).toHaveBeenCalledOnce();
    expect(screen.getByRole("alert")).toHaveTextContent("Forbidden");
  });

  it("Toast announces a message", async () => {
    function Trigger() {
      const notify = useToast();
      return <button onClick={() => notify("Project created")}>go</button>;
    }
    render(
      <ToastProvider>
        <Trigger />
      </ToastProvider>,
    );
    await userEvent.click(screen.getByRole("button", { name: "go" }));
    expect(screen.getByRole("status")).toHaveTextContent("Project created");
  });
});
