/**
 * Runs `work`; when PostgreSQL says a table or column of the outbox is
 * missing (codes 42P01 and 42703), rejects with an Error that names the fix,
 * `migrate()`, the database's error as its cause.
 */
export async function namingMigrate<T>(
  where: string,
  tables: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === "42P01" || code === "42703") {
      throw new Error(
        `${where}: the outbox tables (${tables}) are missing or out of date: run \`await outbox.migrate()\` once before using the outbox`,
        { cause: error },
      );
    }
    throw error;
  }
}
