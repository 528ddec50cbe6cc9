import { describe, expect, it } from "vitest";
import { SERVICE_ROLE_NAMES } from "../../policy/access";
import { unwrap } from "../../scripts/lib/cloudMocks";
import { byType, planOn, PLATFORM_FIXTURES } from "../support/stacks";

/**
 * Who may do what to which secret, asserted secret by secret and role by role, from a table
 * written here (not from the code's own list of readers): a service reads its own URL, the
 * Redis URL and the CAs; analytics its own URL and the PostgreSQL CA; the owner's and admin's
 * URLs and the admin API key are for operators only (docs/security.md, "Security").
 */
const EXPECTED_READERS: Record<string, string[]> = {
  "gaia/production/postgres/owner": [],
  "gaia/production/postgres/admin": [],
  "gaia/production/postgres/analytics": ["analytics"],
  "gaia/production/postgres/chat": ["chat"],
  "gaia/production/postgres/assets": ["assets"],
  "gaia/production/postgres/auth": ["auth"],
  "gaia/production/redis": ["chat", "assets", "auth"],
  "gaia/production/admin-api-key": [],
  "gaia/production/postgres/ca": ["chat", "assets", "auth", "analytics"],
};
/** Memorystore's CA, on GCP only (ElastiCache's certificates chain to a public root). */
const GCP_EXTRA_READERS: Record<string, string[]> = { "gaia/production/redis/ca": ["chat", "assets", "auth"] };

/**
 * The tables above, with each service added to the access policy since they were written
 * (README, "Extending") reading what every service reads: its own URL, the Redis URL and the CAs.
 */
function withAddedServices(table: Record<string, string[]>): Record<string, string[]> {
  const added = SERVICE_ROLE_NAMES.filter((n) => !["chat", "assets", "auth"].includes(n));
  const copy = Object.fromEntries(Object.entries(table).map(([k, v]) => [k, [...v]]));
  for (const service of added) {
    if ("gaia/production/postgres/ca" in copy) copy[`gaia/production/postgres/${service}`] = [service];
    for (const shared of ["gaia/production/redis", "gaia/production/postgres/ca", "gaia/production/redis/ca"]) copy[shared]?.push(service);
  }
  return copy;
}
const READERS = withAddedServices(EXPECTED_READERS);
const GCP_READERS = withAddedServices(GCP_EXTRA_READERS);

const deep = (value: unknown): any => {
  const v = unwrap(value);
  if (Array.isArray(v)) return v.map(deep);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x)]));
  return v;
};

type Statement = {
  Effect: "Allow" | "Deny";
  Principal: { AWS: string | string[] };
  Condition?: { ArnEquals?: Record<string, string | string[]> };
  Action?: string | string[];
  NotAction?: string | string[];
  Resource: string;
};

/**
 * A role as IAM sees it: its ARN, and whether it is the same role that existed when the policy
 * was saved. IAM stores a role ARN named in `Principal` as that role's unique ID, so a role
 * deleted and created again under the same ARN no longer matches it; `aws:PrincipalArn` is the
 * ARN, whichever role holds it (IAM: Principal element, "IAM role principals"; global condition keys).
 */
interface Caller {
  arn: string;
  recreated?: boolean;
}

/** IAM's evaluation of one resource policy for one caller: an explicit Deny wins, then an Allow; else not decided here. */
function decide(policy: { Statement: Statement[] }, caller: string | Caller, action: string): "allow" | "deny" | "identity policy decides" {
  const who = typeof caller === "string" ? { arn: caller } : caller;
  const glob = (p: string, value: string) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i").test(value);
  const matches = (patterns: string | string[] | undefined) => [patterns ?? []].flat().some((p) => glob(p, action));
  const principal = (s: Statement) => [s.Principal.AWS].flat().some((p) => p === "*" || (p === who.arn && !who.recreated));
  const condition = (s: Statement) =>
    Object.entries(s.Condition ?? {}).every(([operator, keys]) => {
      if (operator !== "ArnEquals") throw new Error(`the evaluator does not know the condition operator ${operator}`);
      return Object.entries(keys!).every(([key, values]) => {
        if (key !== "aws:PrincipalArn") throw new Error(`the evaluator does not know the condition key ${key}`);
        return [values].flat().some((v) => glob(v, who.arn));
      });
    });
  const applies = (s: Statement) => principal(s) && condition(s) && (s.Action !== undefined ? matches(s.Action) : !matches(s.NotAction));
  const relevant = policy.Statement.filter(applies);
  if (relevant.some((s) => s.Effect === "Deny")) return "deny";
  return relevant.some((s) => s.Effect === "Allow") ? "allow" : "identity policy decides";
}

// Every action a role allowed `secretsmanager:*` could take on a secret (Secrets Manager permissions reference).
const READ = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"];
const WRITE = [
  "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret", "secretsmanager:DeleteSecret", "secretsmanager:RestoreSecret",
  "secretsmanager:DeleteResourcePolicy", "secretsmanager:PutResourcePolicy", "secretsmanager:GetResourcePolicy",
  "secretsmanager:RotateSecret", "secretsmanager:CancelRotateSecret", "secretsmanager:UpdateSecretVersionStage",
  "secretsmanager:ListSecretVersionIds", "secretsmanager:TagResource", "secretsmanager:UntagResource", "secretsmanager:ReplicateSecretToRegions",
];

describe("who may read which secret", () => {
  it("on aws production: each reader reads its secrets and may do nothing else to them; every other application role may do nothing at all", async () => {
    const plan = await planOn("production", "aws");
    const roles = PLATFORM_FIXTURES.aws.settings.serviceRoles as Record<string, string>;
    const secrets = byType(plan, "aws:secretsmanager/secret:Secret").map((r) => String(deep(r.inputs).name));
    expect(secrets.sort()).toEqual(Object.keys(READERS).sort());
    const policies = byType(plan, "aws:secretsmanager/secretPolicy:SecretPolicy");
    expect(policies.length).toBe(secrets.length);
    for (const resource of policies) {
      const policy = JSON.parse(String(deep(resource.inputs).policy)) as { Statement: Statement[] };
      const secret = secrets.find((name) => resource.name === `${name.replace(/\//g, "-")}-policy`)!;
      expect(secret, resource.name).toBeDefined();
      for (const [role, arn] of Object.entries(roles)) {
        const reader = READERS[secret]!.includes(role);
        for (const action of READ) expect(decide(policy, arn, action), `${role} ${action} ${secret}`).toBe(reader ? "allow" : "deny");
        for (const action of WRITE) expect(decide(policy, arn, action), `${role} ${action} ${secret}`).toBe("deny");
        // The same role deleted and created again: still denied everything it was denied, and a
        // reader no longer allowed until the policy is written again (fails closed).
        const again = { arn, recreated: true };
        for (const action of WRITE) expect(decide(policy, again, action), `recreated ${role} ${action} ${secret}`).toBe("deny");
        for (const action of READ) expect(decide(policy, again, action), `recreated ${role} ${action} ${secret}`).not.toBe("allow");
      }
      // Someone not named (an operator, `pulumi up`) is left to their own identity policy.
      expect(decide(policy, "arn:aws:iam::123456789012:role/operator", "secretsmanager:PutSecretValue")).toBe("identity policy decides");
    }
  });

  it("on aws: a credential's value is stored only after its secret's policy holds, so no first `up` leaves it guarded by IAM alone", async () => {
    const plan = await planOn("production", "aws");
    const versions = byType(plan, "aws:secretsmanager/secretVersion:SecretVersion");
    expect(versions.length).toBe(Object.keys(READERS).length);
    for (const version of versions) {
      const policy = `aws:secretsmanager/secretPolicy:SecretPolicy::${version.name.replace(/-value$/, "-policy")}`;
      expect(version.dependsOn, version.name).toContain(policy);
    }
  });

  it("the evaluator itself: a policy that denies only reading to others is caught", () => {
    const weak = { Statement: [{ Effect: "Deny" as const, Principal: { AWS: ["r"] }, Action: READ, Resource: "s" }] };
    expect(decide(weak, "r", "secretsmanager:GetSecretValue")).toBe("deny");
    expect(decide(weak, "r", "secretsmanager:DeleteResourcePolicy")).not.toBe("deny");
  });

  it("the evaluator itself: a deny that names its roles in Principal lets a recreated role through", () => {
    const byPrincipal = { Statement: [{ Effect: "Deny" as const, Principal: { AWS: ["r"] }, Action: "secretsmanager:*", Resource: "s" }] };
    expect(decide(byPrincipal, "r", "secretsmanager:PutSecretValue")).toBe("deny");
    expect(decide(byPrincipal, { arn: "r", recreated: true }, "secretsmanager:PutSecretValue")).toBe("identity policy decides");
    const byCondition = { Statement: [{ Effect: "Deny" as const, Principal: { AWS: "*" }, Condition: { ArnEquals: { "aws:PrincipalArn": ["r"] } }, Action: "secretsmanager:*", Resource: "s" }] };
    expect(decide(byCondition, { arn: "r", recreated: true }, "secretsmanager:PutSecretValue")).toBe("deny");
    expect(decide(byCondition, "someone-else", "secretsmanager:PutSecretValue")).toBe("identity policy decides");
  });

  it("on gcp production: secretAccessor alone, for exactly each secret's readers' service accounts", async () => {
    const plan = await planOn("production", "gcp");
    const accounts = PLATFORM_FIXTURES.gcp.settings.serviceAccounts as Record<string, string>;
    const secretIds = new Map(byType(plan, "gcp:secretmanager/secret:Secret").map((r) => [r.name, String(deep(r.inputs).secretId)]));
    expect(byType(plan, "gcp:secretmanager/secretIamBinding:SecretIamBinding")).toEqual([]);
    expect(byType(plan, "gcp:secretmanager/secretIamPolicy:SecretIamPolicy")).toEqual([]);
    const members = byType(plan, "gcp:secretmanager/secretIamMember:SecretIamMember").map((r) => deep(r.inputs));
    for (const m of members) expect(m.role).toBe("roles/secretmanager.secretAccessor");
    const granted: Record<string, string[]> = {};
    for (const m of members) (granted[String(m.secretId)] ??= []).push(String(m.member));
    const expected = Object.fromEntries(
      Object.entries({ ...READERS, ...GCP_READERS })
        .map(([name, readers]) => [name.replace(/\//g, "-"), readers.map((r) => `serviceAccount:${accounts[r]}`).sort()] as const)
        .filter(([, readers]) => readers.length > 0),
    );
    expect(Object.fromEntries(Object.entries(granted).map(([k, v]) => [k, v.sort()]))).toEqual(expected);
    expect([...secretIds.values()].sort()).toEqual(Object.keys({ ...READERS, ...GCP_READERS }).map((n) => n.replace(/\//g, "-")).sort());
  });
});
