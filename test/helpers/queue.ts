import pg from 'pg';

/**
 * What the tests read of the job queue (graphile-worker), in one place. Everything but a payload
 * goes through graphile-worker's public `graphile_worker.jobs` view. A payload has no public read
 * (the view leaves it out, and the JS API only adds and removes jobs), yet it is the only place a
 * code exists in clear-to-the-worker form: `queuedPayload` is the one read of the private table,
 * kept here so a graphile-worker upgrade changes one line.
 */
export interface QueuedJob {
  task: string;
  runAt: Date;
  lockedAt: Date | null;
  attempts: number;
  maxAttempts: number;
}

async function query<R extends pg.QueryResultRow>(
  text: string,
  values: unknown[],
  url = process.env.DATABASE_URL,
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** The job queued under `key` (a code id, `fallback:<id>`…), or undefined. */
export async function queuedJob(key: string, url?: string): Promise<QueuedJob | undefined> {
  const [row] = await query<QueuedJob>(
    `SELECT task_identifier AS task, run_at AS "runAt", locked_at AS "lockedAt", attempts,
            max_attempts AS "maxAttempts"
     FROM graphile_worker.jobs WHERE key = $1`,
    [key],
    url,
  );
  return row;
}

/** How many jobs of `task` are queued. */
export async function queuedCount(task: string, url?: string): Promise<number> {
  const [row] = await query<{ n: number }>(
    'SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = $1',
    [task],
    url,
  );
  return row.n;
}

/** The payload of the job queued under `key` (see above: the one private-table read). */
export async function queuedPayload<T = Record<string, unknown>>(
  key: string,
  url?: string,
): Promise<T | undefined> {
  const [row] = await query<{ payload: T }>(
    'SELECT payload FROM graphile_worker._private_jobs WHERE key = $1',
    [key],
    url,
  );
  return row?.payload;
}
