/**
 * Runs `work`; when PostgreSQL says a table or column of the outbox (or
 * the inbox: `owner`) is
 * missing (codes 42P01 and 42703), rejects with an Error that names the fix,
 * `migrate()`, the database's error as its cause.
 */
export async function namingMigrate<T>(
  where: string,
  tables: string,
  work: () => Promise<T>,
  owner = "outbox",
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === "42P01" || code === "42703") {
      throw new Error(
        `${where}: the ${owner} tables (${tables}) are missing or out of date: run \`await ${owner}.migrate()\` once before using the ${owner}`,
        { cause: error },
      );
    }
    throw error;
  }
}
