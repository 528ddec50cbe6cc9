import * as pulumi from "@pulumi/pulumi";
import { GaiaDatabase } from "gaia-database";

/**
 * Another program using the component, without this project's stack files: one review
 * environment per pull request on a shared server. `pulumi config set pr 42`, and the server's
 * admin URL as a secret: `pulumi config set --secret postgresUrl postgresql://…`.
 */
export function reviewEnvironment() {
  const config = new pulumi.Config();
  const database = new GaiaDatabase("review", {
    environment: `pr-${config.requireNumber("pr")}`,
    platform: "local",
    preset: "dev",
    adminEmail: config.get("adminEmail") ?? "review@gaia.example",
    backups: { enabled: false },
    local: { postgresUrl: config.get("postgresUrl") ?? "postgresql://postgres@127.0.0.1:5432/postgres" },
  });
  return { databaseName: database.databaseName, connectionUrls: database.connectionUrls, redisKeyPrefix: database.redisKeyPrefix };
}

export default reviewEnvironment;
