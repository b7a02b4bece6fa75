/**
 * `outbox.stats()` as OpenTelemetry gauges: one batch callback reads the
 * stats once per collection (one round trip) and records each count per
 * listener, with the attribute `listener`. The app brings its own SDK and
 * exporter (Prometheus, OTLP); the library does not depend on
 * `@opentelemetry/api`. Tested in tests/deno/outbox_metrics_test.ts with the
 * SDK's in-memory reader.
 *
 * @module
 */
import type { Meter } from "@opentelemetry/api";
import type { ListenerStats, PostgresOutbox } from "../postgres.ts";

/** The gauges, by the field of `ListenerStats` they report. */
const GAUGES = {
  pending: "outbox.publications.pending",
  due: "outbox.publications.due",
  leased: "outbox.publications.leased",
  failed: "outbox.publications.failed",
  completed: "outbox.publications.completed",
  oldestPendingAgeMs: "outbox.oldest_pending.age",
  paused: "outbox.listener.paused",
} as const satisfies Partial<Record<keyof ListenerStats, string>>;

/**
 * Registers the gauges on `meter`; returns a function that removes them.
 * Every collection runs `outbox.stats()` once.
 */
export function exportOutboxStats(
  meter: Meter,
  outbox: PostgresOutbox,
): () => void {
  const gauges = Object.entries(GAUGES).map(([field, name]) => ({
    field: field as keyof typeof GAUGES,
    gauge: meter.createObservableGauge(name, {
      unit: field === "oldestPendingAgeMs" ? "ms" : "{publication}",
    }),
  }));
  const callback = async (
    result: Parameters<Parameters<Meter["addBatchObservableCallback"]>[0]>[0],
  ) => {
    for (const stats of await outbox.stats()) {
      const attributes = { listener: stats.listenerId };
      for (const { field, gauge } of gauges) {
        const value = stats[field];
        if (value !== null) result.observe(gauge, Number(value), attributes);
      }
    }
  };
  const observables = gauges.map(({ gauge }) => gauge);
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}
