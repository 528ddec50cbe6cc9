import { connectRedis, type RedisConnection } from "../../ops/lib/redis";

/** Runs `action` on a fresh Redis connection (the ops scripts' own, failing fast), closed afterwards whatever happens. */
export async function withRedis<T>(url: string, action: (client: RedisConnection) => Promise<T>): Promise<T> {
  const client = await connectRedis(url);
  try {
    return await action(client);
  } finally {
    await client.quit();
  }
}
