// The error classes: codes, names, messages, issues and causes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createEvent,
  DispatchError,
  DomainEventError,
  HandlerError,
  InvalidEventError,
  MaxDepthExceededError,
} from "../mod.ts";

describe("DomainEventError", () => {
  it("has a code, a name, a message and an optional cause", () => {
    const cause = new Error("root");
    const error = new DomainEventError("SOMETHING", "expected this, got that", {
      cause,
    });
    assert.ok(error instanceof Error);
    assert.equal(error.code, "SOMETHING");
    assert.equal(error.name, "DomainEventError");
    assert.equal(error.message, "expected this, got that");
    assert.equal(error.cause, cause);
    assert.match(String(error), /^DomainEventError: expected this, got that/);
  });
});

describe("InvalidEventError", () => {
  it("is a DomainEventError with code INVALID_EVENT", () => {
    const error = new InvalidEventError([{
      path: "payload.a",
      message: "expected x, got y",
    }]);
    assert.ok(error instanceof DomainEventError);
    assert.ok(error instanceof Error);
    assert.equal(error.code, "INVALID_EVENT");
    assert.equal(error.name, "InvalidEventError");
  });

  it("joins the issues into the message, each led by its path", () => {
    const error = new InvalidEventError([
      {
        path: "payload.items[2].price",
        message: "expected a finite number, got NaN",
      },
      { path: "", message: "expected JSON" },
      { path: "eventId", message: 'expected a UUID, got "x"' },
    ]);
    assert.equal(
      error.message,
      'payload.items[2].price: expected a finite number, got NaN; expected JSON; eventId: expected a UUID, got "x"',
    );
  });

  it("keeps the issues, frozen", () => {
    const issues = [{ path: "a", message: "b" }];
    const error = new InvalidEventError(issues);
    assert.deepEqual(error.issues, [{ path: "a", message: "b" }]);
    assert.ok(Object.isFrozen(error.issues));
    assert.ok(Object.isFrozen(error.issues[0]));
    assert.throws(() => {
      (error.issues as unknown as unknown[]).push({ path: "c" });
    }, TypeError);
    // The caller's own issue objects are copied, not frozen.
    assert.ok(!Object.isFrozen(issues[0]));
    issues[0]!.message = "changed";
    assert.equal(error.issues[0]?.message, "b");
  });

  it("keeps a cause", () => {
    const cause = new SyntaxError("bad");
    assert.equal(
      new InvalidEventError([{ path: "", message: "m" }], { cause }).cause,
      cause,
    );
  });

  it("is what the library throws, with a stack", () => {
    try {
      createEvent("");
      assert.fail("expected a throw");
    } catch (error) {
      assert.ok(error instanceof InvalidEventError);
      assert.equal(typeof error.stack, "string");
    }
  });
});

describe("HandlerError", () => {
  const event = createEvent("invite.created");

  it("names the handler, the event and the cause", () => {
    const cause = new Error("SMTP down");
    const error = new HandlerError(event, "sendEmail", cause);
    assert.ok(error instanceof DomainEventError);
    assert.equal(error.code, "HANDLER_FAILED");
    assert.equal(error.name, "HandlerError");
    assert.equal(error.event, event);
    assert.equal(error.handlerName, "sendEmail");
    assert.equal(error.cause, cause);
    assert.equal(
      error.message,
      `Handler "sendEmail" failed on "invite.created" (${event.eventId}): SMTP down`,
    );
  });

  it("describes a cause that is not an Error", () => {
    assert.match(new HandlerError(event, "h", "plain").message, /: "plain"$/);
    assert.match(new HandlerError(event, "h", 42).message, /: 42$/);
    const unprintable = Object.create(null);
    assert.match(
      new HandlerError(event, "h", unprintable).message,
      /: an object$/,
    );
  });
});

describe("MaxDepthExceededError", () => {
  it("names the event type and the limit", () => {
    const error = new MaxDepthExceededError("ping", 32);
    assert.ok(error instanceof DomainEventError);
    assert.equal(error.code, "MAX_DEPTH_EXCEEDED");
    assert.equal(error.name, "MaxDepthExceededError");
    assert.equal(error.eventType, "ping");
    assert.equal(error.maxDepth, 32);
    assert.match(error.message, /32/);
    assert.match(error.message, /"ping"/);
  });
});

describe("DispatchError", () => {
  it("is an AggregateError of HandlerErrors with a code", () => {
    const event = createEvent("invite.created");
    const errors = [
      new HandlerError(event, "a", new Error("1")),
      new HandlerError(event, "b", new Error("2")),
    ];
    const error = new DispatchError(event, errors);
    assert.ok(error instanceof AggregateError);
    assert.equal(error.code, "DISPATCH_FAILED");
    assert.equal(error.name, "DispatchError");
    assert.equal(error.event, event);
    assert.deepEqual(error.errors, errors);
    assert.equal(
      error.message,
      `2 handler(s) failed on "invite.created" (${event.eventId}): a: 1; b: 2`,
    );
  });
});
