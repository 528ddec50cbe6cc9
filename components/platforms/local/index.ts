import { connectionProblem } from "../shared/contracts";
import { MAX_CONNECTIONS } from "../shared/connections";
import * as pulumi from "@pulumi/pulumi";
import { settings, type LocalSettings } from "./settings";
import { opsCommand } from "../../commands";
import { generatePassword, onceApplied } from "../../credentials";
import { SLOTS, currentSlot, generationOf, slotKeepers, type Slot } from "../../rotation";
import { costOf } from "../shared/cost";
import type { Platform } from "../types";

export const local: Platform<LocalSettings> = {
  name: "local",
  capabilities: {
    regions: ["local"],
    postgresVersions: [13, 14, 15, 16, 17, 18],
    pitrDays: null,
    retentionDays: null,
    maxReplicas: 0,
    highAvailability: false,
    redisSizing: false,
    minStorageGb: 0,
    perTableGrants: true,
    auditLogging: false,
    alerts: null,
  },
  settings,
  contracts: [
    {
      platform: "local",
      rule: `the pools fit the ${MAX_CONNECTIONS} connections the component lets any server hold`,
      source: "components/platforms/shared/connections.ts MAX_CONNECTIONS",
      // An existing server's own limit is not known here; more than any server's is refused.
      check: (config) => connectionProblem(config, undefined, "local"),
    },
  ],
  cannotRotate: {
    admin: "the admin of a local stack is your own (gaia:local.postgresUrl): change its password on the server, then `pulumi config set --secret gaia:local.postgresUrl` with the new URL",
  },

  validate(_config, s) {
    return s.sslMode.startsWith("verify-") && !s.sslRootCert
      ? [`gaia:local.sslMode ${s.sslMode} needs the server's CA: set gaia:local.sslRootCert to its PEM (pulumi config set --path gaia:local.sslRootCert -- "$(cat ca.pem)").`]
      : [];
  },

  instanceClass: () => "existing server",

  // An existing server and Redis: the stack adds databases and roles to them and bills nothing.
  monthlyCost: () => costOf({ lines: [], notes: ["an existing PostgreSQL and Redis: the stack bills nothing"] }),

  describe: (config, s) => ({
    server: {},
    standby: "none (an existing server)",
    tls: s.sslMode,
    redis: `the existing server's, as ACL user ${config.names.redisUser} confined to ${config.names.redisKeyPrefix}*`,
  }),

  createPostgres({ settings }) {
    const url = new URL(settings.postgresUrl.replace(/^postgres:/, "postgresql:"));
    return {
      host: pulumi.output(url.hostname),
      port: pulumi.output(Number(url.port || 5432)),
      replicaHosts: pulumi.output([]),
      tls: { mode: settings.sslMode, ca: settings.sslRootCert === undefined ? undefined : pulumi.output(settings.sslRootCert) },
      admin: { username: decodeURIComponent(url.username || "postgres"), password: pulumi.secret(decodeURIComponent(url.password)), isSuperuser: true },
      readyResources: [],
    };
  },

  createRedis({ config, settings, child }) {
    const names = config.names;
    // Two passwords the ACL user accepts at once, alternated by rotation (components/rotation.ts):
    // the current one, and the previous one until the next rotation renews it.
    const generation = generationOf(config.rotation, "redis");
    const slotPassword = (slot: Slot) =>
      generatePassword(`${names.resourcePrefix}-redis-password${slot === "a" ? "" : "-b"}`, child, { keepers: slotKeepers(slot, generation) });
    const passwords = Object.fromEntries(SLOTS.map((slot) => [slot, slotPassword(slot)])) as Record<Slot, pulumi.Output<string>>;
    const current = currentSlot(generation);
    const password = passwords[current];
    const url = new URL(settings.redisUrl);
    const acl = opsCommand(
      `${names.resourcePrefix}-redis-acl-user`,
      {
        script: "redis-acl",
        create: "apply",
        update: "apply",
        delete: "delete",
        environment: {
          GAIA_REDIS_ADMIN_URL: pulumi.secret(settings.redisUrl),
          GAIA_REDIS_USER: names.redisUser,
          GAIA_REDIS_PASSWORD: password,
          GAIA_REDIS_PREVIOUS_PASSWORD: passwords[current === "a" ? "b" : "a"],
          GAIA_REDIS_KEY_PREFIX: names.redisKeyPrefix,
        },
      },
      child,
    );
    return {
      host: pulumi.output(url.hostname),
      port: pulumi.output(Number(url.port || 6379)),
      tls: url.protocol === "rediss:",
      username: pulumi.output(names.redisUser),
      password: onceApplied(password, acl.stdout),
      keyPrefix: names.redisKeyPrefix,
    };
  },

  // No secret store on an existing server: the stack's encrypted state and outputs are the store.
  storeSecret: () => undefined,
};
