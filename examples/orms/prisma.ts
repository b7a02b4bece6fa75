/**
 * The outbox inside Prisma's interactive transactions: the adapter only,
 * typed against the two methods it uses (`$transaction` with a callback, and
 * `$queryRawUnsafe`, whose PostgreSQL placeholders are `$1`, `$2`... like the
 * library's), so it type-checks without a generated client.
 *
 * NOT RUN HERE: `prisma generate` downloads Prisma's engine binaries from
 * Prisma's own servers, not from npm, and this project's machines reach npm
 * only. `deno task check:types` type-checks this file; nothing runs it.
 * docs/orms.md says the same.
 *
 * @module
 */
import type {
  PGliteLike,
  SqlQueryable,
} from "@seedwork/domain-events/postgres";

/** What the adapter uses of a PrismaClient or of its transaction client. */
export interface PrismaQueryable {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}
/** What the adapter uses of a PrismaClient. */
export interface PrismaClientLike extends PrismaQueryable {
  $transaction<T>(fn: (tx: PrismaQueryable) => Promise<T>): Promise<T>;
}

/** A Prisma transaction client for the outbox; `orm` gives it back. */
export function forOutbox<Tx extends PrismaQueryable>(
  tx: Tx,
): SqlQueryable & { readonly orm: Tx } {
  return {
    orm: tx,
    query: async (text, params = []) => ({
      rows: await tx.$queryRawUnsafe<unknown[]>(text, ...params),
    }),
  };
}

/** The outbox's database: Prisma's interactive transactions, in PGlite's shape. */
export function outboxDatabase(prisma: PrismaClientLike): PGliteLike {
  return {
    query: forOutbox(prisma).query,
    transaction: (fn) => prisma.$transaction((tx) => fn(forOutbox(tx))),
  };
}

// In a command:
// await prisma.$transaction(async (tx) => {
//   await tx.order.create({ data: { id: orderId } });
//   await outbox.store(forOutbox(tx), [OrderPlaced.create({ orderId })]);
// });
