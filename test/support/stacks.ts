import { planStack, type StackPlan } from "../../scripts/lib/offline";
import { readStackFile } from "../../scripts/lib/stackFile";
import { SERVICE_ROLE_NAMES } from "../../policy/access";
import { PRESETS, type Preset, type PresetName } from "../../stacks/presets";

/** What each platform needs in a stack file, for running every stack on every platform. */
export const PLATFORM_FIXTURES = {
  aws: {
    region: "us-east-1",
    alerts: { notify: "arn:aws:sns:us-east-1:123456789012:gaia-alerts" },
    settings: {
      vpcId: "vpc-0abc",
      subnetIds: ["subnet-0a1", "subnet-0a2"],
      allowedSecurityGroupIds: ["sg-0a99"],
      // One per service of the access policy, so that a service added there is planned everywhere.
      serviceRoles: Object.fromEntries(SERVICE_ROLE_NAMES.map((n) => [n, `arn:aws:iam::123456789012:role/${n}`])),
    },
  },
  gcp: {
    region: "us-central1",
    alerts: { notify: "projects/gaia-test-project/notificationChannels/1234567890" },
    settings: {
      project: "gaia-test-project",
      network: "projects/gaia-test-project/global/networks/gaia",
      serviceAccounts: Object.fromEntries([...SERVICE_ROLE_NAMES, "analytics"].map((n) => [n, `${n}@gaia-test-project.iam.gserviceaccount.com`])),
    },
  },
  fly: {
    region: "iad",
    settings: { org: "gaia", apps: Object.fromEntries(SERVICE_ROLE_NAMES.map((n) => [n, `gaia-${n}`])), acceptCoarseRoles: true, redisReplicaRegions: ["ord"] },
  },
} as const;

/**
 * What a stack file says to live on a platform where it asks for more than the platform gives,
 * for any stack file: Fly Managed Postgres has no read replicas, and flyctl cannot select a plan
 * above 4 vCPUs (components/platforms/fly/contracts.ts).
 */
function fittedTo(platform: CloudPlatform, stack: string, config: Record<string, string>): Record<string, string> {
  if (platform !== "fly") return {};
  const preset = PRESETS[(config["gaia:preset"] ?? stack) as PresetName] as Preset | undefined;
  const set = config["gaia:instance"] ? (JSON.parse(config["gaia:instance"]) as Partial<Preset["instance"]>) : {};
  const vcpus = set.vcpus ?? preset?.instance.vcpus ?? 0;
  const replicas = Number(config["gaia:replicas"] ?? preset?.replicas ?? 0);
  return {
    ...(replicas > 0 ? { "gaia:replicas": "0" } : {}),
    ...(vcpus > 4 ? { "gaia:instance": JSON.stringify({ ...set, vcpus: 4 }) } : {}),
  };
}

export type CloudPlatform = keyof typeof PLATFORM_FIXTURES;
export const CLOUD_PLATFORMS = Object.keys(PLATFORM_FIXTURES) as CloudPlatform[];

/** A committed stack file, moved to `platform`: its own platform block replaced by the fixture's. */
export function stackOn(stack: string, platform: CloudPlatform): Record<string, string> {
  const { config } = readStackFile(stack);
  // The environment follows the stack name here, so a test can plan one file under many names.
  const moved = Object.fromEntries(Object.entries(config).filter(([key]) => !/^gaia:(aws|gcp|fly|local|region|platform|environment|alerts)$/.test(key)));
  const fixture = PLATFORM_FIXTURES[platform];
  return {
    ...moved,
    "gaia:platform": platform,
    "gaia:region": fixture.region,
    [`gaia:${platform}`]: JSON.stringify(fixture.settings),
    ...("alerts" in fixture ? { "gaia:alerts": JSON.stringify(fixture.alerts) } : {}),
    ...fittedTo(platform, stack, config),
  };
}

export async function planOn(stack: string, platform: CloudPlatform): Promise<StackPlan> {
  return planStack(stack, stackOn(stack, platform));
}

export const byType = (plan: StackPlan, type: string) => plan.resources.filter((r) => r.type === type);
export const one = (plan: StackPlan, type: string, name?: string) => {
  const found = byType(plan, type).filter((r) => name === undefined || r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` ${name}` : ""}, found ${found.length}`);
  return found[0]!;
};
