import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { PROJECT_ROOT, stackNames } from "../../scripts/lib/stackFile";
import { SERVICE_ROLE_NAMES } from "../../policy/access";
import { testsThatUse } from "../support/dependents";
import { copyProject } from "../support/project";

/**
 * Adding a service exactly as the README's "Extending" says, in a copy of the project: its entry
 * in SERVICE_ROLES (a text edit of policy/access.ts), its identity in every stack file that names
 * the services' identities and in the README's new-stack example, then `npm run plan -- --update`.
 * The plans then hold its roles, its secret and who may read it, and every test that reads the
 * access policy or the committed plans (found in the tests' own sources: ../support/dependents.ts)
 * passes unedited.
 */
const SERVICE = "billing";
const READS_POLICY = /SERVICE_ROLE|ACCESS_POLICY|policy\/access|PLANS_FOLDER|plans\//;

/** The stack file with `service` given an identity where the others have one, as a person adds the line. */
function withIdentity(text: string, service: string): string {
  return text.replace(/^( +)(serviceRoles|serviceAccounts|apps):\n((?:\1 +[\w-]+: .+\n)+)/m, (_block, indent: string, key: string, entries: string) => {
    const first = /^( +)([\w-]+): (.+)$/m.exec(entries)!;
    return `${indent}${key}:\n${entries}${first[1]}${service}: ${first[3]!.split(first[2]!).join(service)}\n`;
  });
}

it("takes a service added as the README says, without editing any test", { timeout: 900_000 }, () => {
  expect(SERVICE_ROLE_NAMES, `${SERVICE} is a service already: pick another name for this walkthrough`).not.toContain(SERVICE);
  const copy = copyProject("gaia-add-service-");
  const npm = (...args: string[]) => {
    const run = spawnSync("npm", args, { cwd: copy, encoding: "utf8", env: { ...process.env, PATH: `${path.join(PROJECT_ROOT, "node_modules/.bin")}:${process.env.PATH}` }, timeout: 840_000 });
    expect(run.status, `npm ${args.join(" ")}: ${run.stderr}\n${run.stdout.split("\n").filter((l) => /×|FAIL|Error/.test(l)).join("\n")}`).toBe(0);
    return run.stdout;
  };
  const edit = (file: string, change: (text: string) => string) => {
    const before = readFileSync(path.join(copy, file), "utf8");
    const after = change(before);
    expect(after, `${file} changed`).not.toBe(before);
    writeFileSync(path.join(copy, file), after);
  };

  // One entry in SERVICE_ROLES: tables that exist, in two schemas.
  edit("policy/access.ts", (text) =>
    text.replace(
      /\n\} as const satisfies Record<string, ServiceRole>;/,
      `\n  ${SERVICE}: {\n    description: "Billing service: reads accounts and the provider catalogue.",\n    tables: { "auth.users": READ, "platform.providers": READ },\n  },$&`,
    ),
  );
  // Its identity in each stack file that names the services' identities (production refuses it without), and in the README's new stack.
  const named = stackNames(copy).filter((stack) => /^ +(serviceRoles|serviceAccounts|apps):\n +[\w-]+: /m.test(readFileSync(path.join(copy, `Pulumi.${stack}.yaml`), "utf8")));
  expect(named).toEqual(expect.arrayContaining(["dev", "staging", "production"]));
  for (const stack of named) edit(`Pulumi.${stack}.yaml`, (text) => withIdentity(text, SERVICE));
  edit("docs/configuration.md", (text) =>
    text.replace(/^pulumi config set -s qa --path gaia:aws\.serviceRoles\.(\w+) (\S+)\n(?!pulumi config set -s qa --path gaia:aws\.serviceRoles\.)/m, (line, service: string, arn: string) => `${line}pulumi config set -s qa --path gaia:aws.serviceRoles.${SERVICE} ${arn.split(service).join(SERVICE)}\n`),
  );

  const updated = npm("run", "-s", "plan", "--", "--update");
  for (const stack of stackNames(copy)) expect(updated).toContain(`plans/${stack}.txt updated\n`);

  // Production plans its roles, its secret, and who may read it: its own role, and no other application's.
  const production = readFileSync(path.join(copy, "plans/production.txt"), "utf8");
  const resource = (header: string) => production.slice(production.indexOf(`  + ${header}`)).split(/\n {2}\+ /)[0]!;
  for (const role of [`gaia_production_${SERVICE}`, `gaia_production_${SERVICE}_a`, `gaia_production_${SERVICE}_b`]) expect(production).toContain(`+ postgresql:index/role:Role ${role} `);
  expect(resource(`aws:secretsmanager/secret:Secret gaia-production-postgres-${SERVICE} `)).toContain(`name: "gaia/production/postgres/${SERVICE}"`);
  const arn = `arn:aws:iam::123456789012:role/gaia-production-${SERVICE}`;
  const policy = resource(`aws:secretsmanager/secretPolicy:SecretPolicy gaia-production-postgres-${SERVICE}-policy`);
  expect(policy).toContain(`Sid: "ReadersRead"\n            Effect: "Allow"\n            Principal: {"AWS":["${arn}"]}`);
  expect(policy).toMatch(/Sid: "OtherApplicationsDenied"[\s\S]*role\/gaia-production-chat/);
  // It reads the Redis URL like every service, and no other service's URL.
  expect(resource("aws:secretsmanager/secretPolicy:SecretPolicy gaia-production-redis-policy")).toContain(`"${arn}"`);
  expect(resource("aws:secretsmanager/secretPolicy:SecretPolicy gaia-production-postgres-chat-policy").split('Sid: "OtherApplicationsDenied"')[1]).toContain(arn);
  expect(production).toContain(`    gaia/production/postgres/${SERVICE}: "arn:aws:secretsmanager:`);

  npm("run", "-s", "build:ops");
  const dependents = testsThatUse(READS_POLICY);
  // The policy on real servers, every stack's graph and the secrets' readers, the committed plans, and the README's new stack, at least.
  for (const file of ["test/db/privileges.test.ts", "test/graph/stacks.test.ts", "test/graph/secret-access.test.ts", "test/graph/plans.test.ts", "test/unit/config.test.ts", "test/cli/pulumi-cli.test.ts"]) {
    expect(dependents).toContain(file);
  }
  npm("exec", "--", "vitest", "run", ...dependents);
});
