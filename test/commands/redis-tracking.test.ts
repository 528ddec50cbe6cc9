import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aclRules } from "../../ops/lib/redis";
import { environmentNames } from "../../policy/naming";
import { registerSecret } from "../support/canary";
import { withRedis } from "../support/redis";

const REDIS = "redis://127.0.0.1:6379";
const names = environmentNames(`trk-${randomBytes(3).toString("hex")}`);
const neighbour = environmentNames(`${names.environment}-n`);
const password = randomBytes(18).toString("base64url");
registerSecret(password);

/** RESP as it is written on the wire. */
const resp = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;

/** A raw RESP3 connection as the environment's user: what it receives, push messages included. */
async function asUser(): Promise<{ socket: Socket; received: () => string; send: (...args: string[]) => Promise<string> }> {
  const socket = connect(6379, "127.0.0.1");
  let buffer = "";
  socket.on("data", (chunk) => void (buffer += chunk.toString()));
  await new Promise((resolve) => socket.once("connect", resolve));
  const send = async (...args: string[]) => {
    const before = buffer.length;
    socket.write(resp(...args));
    await new Promise((resolve) => setTimeout(resolve, 200));
    return buffer.slice(before);
  };
  await send("HELLO", "3", "AUTH", names.redisUser, password);
  return { socket, received: () => buffer, send };
}

beforeAll(async () => {
  await withRedis(REDIS, (admin) => admin.sendCommand(["ACL", "SETUSER", names.redisUser, ...aclRules(names.redisKeyPrefix, password)]));
});
afterAll(async () => {
  await withRedis(REDIS, async (admin) => {
    await admin.sendCommand(["ACL", "DELUSER", names.redisUser]);
    await admin.del([`${neighbour.redisKeyPrefix}session:4242`]);
  });
});

describe("an environment's Redis user and client-side caching", () => {
  it("is never told the names of another environment's keys (CLIENT TRACKING in broadcast mode)", async () => {
    const user = await asUser();
    try {
      // In BCAST mode the server sends every client an invalidation for every key written,
      // whatever its ACL key patterns (https://redis.io/docs/latest/develop/reference/client-side-caching/).
      const reply = await user.send("CLIENT", "TRACKING", "on", "BCAST");
      await withRedis(REDIS, (admin) => admin.set(`${neighbour.redisKeyPrefix}session:4242`, "v"));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(user.received()).not.toContain(neighbour.redisKeyPrefix);
      expect(reply).toMatch(/NOPERM/);
      // Its own keys still work.
      expect(await user.send("SET", `${names.redisKeyPrefix}x`, "1")).toContain("+OK");
    } finally {
      user.socket.destroy();
      await withRedis(REDIS, (admin) => admin.del([`${names.redisKeyPrefix}x`]));
    }
  });
});
