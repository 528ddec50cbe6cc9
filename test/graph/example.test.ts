import { describe, expect, it } from "vitest";
import { GaiaConfigError, GaiaDatabase } from "gaia-database";
import { reviewEnvironment } from "../../examples/review-environment";
import { planProgram } from "../../scripts/lib/offline";
import { SERVICE_ROLE_NAMES } from "../../policy/access";
import { byType, one } from "../support/stacks";

/** examples/review-environment: another program using the component through the package, under the mocked runtime. */
const project = "gaia-review-environment";

describe("the component as a library", () => {
  it("makes a review environment from typed args, without this project's stack files", async () => {
    const plan = await planProgram("pr-42", { [`${project}:pr`]: "42" }, reviewEnvironment, { project });
    expect(plan.outputs.databaseName).toEqual({ value: "gaia_pr_42", secret: false });
    expect(plan.outputs.redisKeyPrefix).toEqual({ value: "gaia:pr-42:", secret: false });
    expect(plan.outputs.connectionUrls!.secret).toBe(true);
    expect(one(plan, "postgresql:index/database:Database").inputs).toMatchObject({ name: "gaia_pr_42", owner: "gaia_pr_42_owner" });
    // A group and two logins for the owner, analytics and each service (15 for chat, assets and auth).
    expect(byType(plan, "postgresql:index/role:Role")).toHaveLength(3 * (2 + SERVICE_ROLE_NAMES.length));
    expect(one(plan, "gaia:database:GaiaDatabase").name).toBe("review");
  });

  it("refuses bad args before any resource, the component itself included, with every problem", async () => {
    const registered: string[] = [];
    const bad = () => {
      new GaiaDatabase("review", { environment: "pr-1", platform: "local", preset: "dev", adminEmail: "not-an-email", replicas: 2, backups: { enabled: false } });
      return {};
    };
    const error = await planProgram("pr-1", {}, bad, { project, onRegister: (type) => registered.push(type) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GaiaConfigError);
    expect((error as GaiaConfigError).problems).toEqual([
      `gaia:adminEmail: Invalid email address (got "not-an-email"); set gaia:adminEmail to the environment administrator's address.`,
      "gaia:replicas 2 is more than local allows (0): lower it.",
    ]);
    expect(registered.filter((t) => t !== "pulumi:pulumi:Stack")).toEqual([]);
  });
});
