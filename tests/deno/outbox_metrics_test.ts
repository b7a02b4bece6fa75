// The OpenTelemetry recipe of docs/outbox.md (examples/outbox_metrics.ts)
// against the SDK's MeterProvider and an in-memory exporter, on PGlite.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { createEvent } from "../../mod.ts";
import { PostgresOutbox } from "../../postgres.ts";
import { exportOutboxStats } from "../../examples/outbox_metrics.ts";
import { outboxFixture } from "./_outbox_fixture.ts";

const { db } = outboxFixture();

describe("outbox.stats() as OpenTelemetry gauges", () => {
  it("reports each listener's counts with the listener as attribute, and stops when removed", async () => {
    const outbox = new PostgresOutbox(db, { maxAttempts: 1 });
    await outbox.migrate();
    outbox.registerAny("audit", () => {});
    outbox.registerAny("search", () => {
      throw new Error("down");
    });
    await db.transaction((tx) =>
      outbox.store(tx, [createEvent("a"), createEvent("b")])
    );
    await outbox.processPending({ limit: 3 });
    const exporter = new InMemoryMetricExporter(
      AggregationTemporality.CUMULATIVE,
    );
    const reader = new PeriodicExportingMetricReader({
      exporter,
      exportIntervalMillis: 3_600_000,
    });
    const provider = new MeterProvider({ readers: [reader] });
    const remove = exportOutboxStats(provider.getMeter("outbox"), outbox);
    await reader.forceFlush();
    const seen: Record<string, Record<string, number>> = {};
    for (const { scopeMetrics } of exporter.getMetrics()) {
      for (const { metrics } of scopeMetrics) {
        for (const metric of metrics) {
          for (const point of metric.dataPoints) {
            const listener = String(point.attributes["listener"]);
            seen[listener] ??= {};
            seen[listener][metric.descriptor.name] = point.value as number;
          }
        }
      }
    }
    // audit ran both; search failed one (dead at once), the other waits.
    assert.deepEqual(seen["audit"], {
      "outbox.publications.pending": 0,
      "outbox.publications.due": 0,
      "outbox.publications.leased": 0,
      "outbox.publications.failed": 0,
      "outbox.publications.completed": 2,
      "outbox.listener.paused": 0,
    });
    const search = seen["search"]!;
    assert.ok(search["outbox.oldest_pending.age"]! >= 0);
    assert.deepEqual({ ...search, "outbox.oldest_pending.age": 0 }, {
      "outbox.publications.pending": 1,
      "outbox.publications.due": 1,
      "outbox.publications.leased": 0,
      "outbox.publications.failed": 1,
      "outbox.publications.completed": 0,
      "outbox.oldest_pending.age": 0,
      "outbox.listener.paused": 0,
    });
    // One stats() per collection, none once removed.
    let calls = 0;
    const stats = outbox.stats.bind(outbox);
    outbox.stats = () => (calls++, stats());
    await reader.forceFlush();
    assert.equal(calls, 1);
    remove();
    await reader.forceFlush();
    assert.equal(calls, 1);
    await provider.shutdown();
  });
});
