import { isSecretValue } from "../../scripts/lib/cloudMocks";
import type { StackPlan } from "../../scripts/lib/offline";

/**
 * The lines `pulumi preview` and `pulumi up` print for a stack's plan, rendered with the CLI's own
 * rules (github.com/pulumi/pulumi v3.274.1), so that redact() can be held to leaving them as they
 * are: what scripts/lib/automation.ts withProgress shows passes through it line by line.
 * - A resource row names its type by tokens.Type.DisplayName(): `aws:secretsmanager/secretVersion:SecretVersion`
 *   becomes `aws:secretsmanager:SecretVersion` when the module's last part is the name camel-cased
 *   (sdk/go/common/tokens/tokens.go:267-300; backend/display/rows.go:389).
 * - A property is `%-<widest key>s: ` then its value (backend/display/object_diff.go:279-289,655-657),
 *   a string Go-quoted, a secret as `[secret]` (object_diff.go:1020), objects and arrays nested with
 *   their keys and indexes as titles; a step's details open with `[urn=…]` and `[provider=…]`
 *   (object_diff.go:145-185).
 * - An error names the resource as `type (name):` (backend/display/progress.go) and the URN in full.
 */
export function pulumiDisplayLines(plan: StackPlan, project = "gaia-database"): string[] {
  const byKey = new Map(plan.resources.map((r) => [`${r.type}::${r.name}`, r]));
  const urnOf = (key: string): string => {
    const chain: string[] = [];
    for (let at = byKey.get(key); at; at = at.parent ? byKey.get(at.parent) : undefined) chain.unshift(at.type);
    const [type, name] = [chain.join("$"), key.split("::")[1]];
    return `urn:pulumi:${plan.stack}::${project}::${type}::${name}`;
  };
  const lines: string[] = [];
  for (const resource of plan.resources) {
    const key = `${resource.type}::${resource.name}`;
    const shown = displayName(resource.type);
    for (const [op, status] of [["+ ", "create"], ["~ ", "update"], ["+-", "replace"], ["- ", "delete"]]) {
      lines.push(` ${op}  ├─ ${shown.padEnd(48)} ${resource.name.padEnd(40)} ${status}`);
    }
    lines.push(`    ${op("+")}${shown}: (create)`, `        [urn=${urnOf(key)}]`);
    if (resource.provider) lines.push(`        [provider=${urnOf(resource.provider)}::04da6b54-80e4-46f7-96ec-b56ff0331ba9]`);
    // The same properties as an update shows them changed (`~ key: old => new`), and each with a step's prefix.
    const shownInputs = properties(resource.inputs, 2);
    lines.push(...shownInputs, ...shownInputs.map((line) => line.replace(/^( *)/, "$1~ ")));
    lines.push(...shownInputs.filter((line) => !line.endsWith("{") && !line.endsWith("[")).map((line) => `${line.replace(/^( *)/, "$1~ ")} => ${line.slice(line.indexOf(": ") + 2)}`));
    lines.push(`  ${shown} (${resource.name}):`, `    error: update failed for ${urnOf(key)}`);
  }
  lines.push("Outputs:", ...properties(Object.fromEntries(Object.entries(plan.outputs).map(([k, o]) => [k, o.secret ? SECRET : o.value])), 1));
  return lines;
}

/**
 * What `pulumi config` and `pulumi stack output` print for a stack, secrets not shown (github.com/pulumi/pulumi
 * v3.274.1): the config as a table, KEY and VALUE, columns padded to the widest cell and two spaces between
 * (pkg/cmd/pulumi/config/config.go:1356-1367; sdk/go/common/util/cmdutil/console.go:183-185), a secret as
 * "[secret]"; with --json, an object of {value, objectValue, secret} per key, the value left out of a secret
 * (config.go:1201-1206,1326-1353), indented by two (pkg/cmd/pulumi/ui/json.go:30-50). The outputs as a table
 * under "Current stack outputs (n):", each row prefixed by four spaces, an object as one line of JSON
 * (pkg/cmd/pulumi/stack/stack.go:261-300), and with --json as indented JSON, a secret as "[secret]".
 */
export function pulumiListingLines(plan: StackPlan, config: Record<string, string>, secretKeys: readonly string[]): string[] {
  const keys = Object.keys(config).sort();
  const shown = (key: string) => (secretKeys.includes(key) ? "[secret]" : config[key]!);
  const table = (rows: [string, string][], prefix = "") => {
    const width = Math.max(...rows.map(([k]) => k.length));
    return rows.map(([k, v]) => `${prefix}${k.padEnd(width)}  ${v}`);
  };
  const json = Object.fromEntries(
    keys.map((key) => {
      if (secretKeys.includes(key)) return [key, { secret: true }];
      const value = config[key]!;
      const object = /^[{[]/.test(value) ? { objectValue: JSON.parse(value) as unknown } : {};
      return [key, { value, ...object, secret: false }];
    }),
  );
  const outputs = Object.keys(plan.outputs).sort();
  const outputValue = (key: string) => (plan.outputs[key]!.secret ? "[secret]" : plan.outputs[key]!.value);
  return [
    ...table([["KEY", "VALUE"], ...keys.map((key): [string, string] => [key, shown(key)])]),
    ...JSON.stringify(json, null, 2).split("\n"),
    `Current stack outputs (${outputs.length}):`,
    ...table([["OUTPUT", "VALUE"], ...outputs.map((key): [string, string] => [key, typeof outputValue(key) === "string" ? (outputValue(key) as string) : JSON.stringify(outputValue(key))])], "    "),
    ...JSON.stringify(Object.fromEntries(outputs.map((key) => [key, outputValue(key)])), null, 2).split("\n"),
  ];
}

const SECRET = Symbol("secret");
const op = (sign: string) => `${sign} `;

/** tokens.Type.DisplayName (sdk/go/common/tokens/tokens.go:267-300). */
export function displayName(type: string): string {
  const parts = type.split(":");
  if (parts.length !== 3 || !parts[2]) return type;
  const [pkg, module, name] = parts as [string, string, string];
  const slash = module.lastIndexOf("/");
  if (slash < 0 || module.slice(slash + 1) !== name[0]!.toLowerCase() + name.slice(1)) return type;
  return `${pkg}:${module.slice(0, slash)}:${name}`;
}

/** An object's properties as the display prints them: titles padded to the widest key, values nested. */
function properties(object: Record<string, unknown>, depth: number): string[] {
  const keys = Object.keys(object).sort();
  const width = Math.max(0, ...keys.map((k) => k.length));
  return keys.flatMap((k) => valueLines(`${"    ".repeat(depth)}${k.padEnd(width)}: `, object[k], depth));
}

function valueLines(title: string, value: unknown, depth: number): string[] {
  if (value === SECRET || isSecretValue(value)) return [`${title}[secret]`];
  if (Array.isArray(value)) {
    const indexed = Object.fromEntries(value.map((v, i) => [`[${i}]`, v]));
    return [`${title}[`, ...properties(indexed, depth + 1), `${"    ".repeat(depth)}]`];
  }
  if (value && typeof value === "object") return [`${title}{`, ...properties(value as Record<string, unknown>, depth + 1), `${"    ".repeat(depth)}}`];
  return [`${title}${typeof value === "string" ? JSON.stringify(value) : String(value)}`];
}
