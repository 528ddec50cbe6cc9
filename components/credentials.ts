import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { scramSha256Verifier } from "./scram";

export interface PasswordOptions {
  /** The rotation handle: change a value and a new password is generated. */
  keepers?: Record<string, pulumi.Input<string>>;
  length?: number;
  /**
   * The special characters the password may contain. A replacement trigger of RandomPassword:
   * change it for one generator only, never for all (it would rotate every credential at once).
   */
  specials?: string;
}

/** Letters, digits and these: safe in a connection URL without escaping, and in every platform's password rules. */
export const URL_SAFE_SPECIALS = "-_";

/**
 * A generated credential. `RandomPassword.result` is secret in state and in every output it
 * flows into.
 */
export function generatePassword(name: string, opts: pulumi.CustomResourceOptions, options: PasswordOptions = {}): pulumi.Output<string> {
  const password = new random.RandomPassword(
    name,
    {
      length: options.length ?? 32,
      special: true,
      overrideSpecial: options.specials ?? URL_SAFE_SPECIALS,
      minLower: 2,
      minUpper: 2,
      minNumeric: 2,
      keepers: options.keepers,
    },
    opts,
  );
  return pulumi.secret(password.result);
}

/**
 * A password as applications get it: resolved only once `applied` (the server's change that
 * installs it: a role's update, an ACL command) has resolved, so every URL and secret-store
 * value made from it follows the server, never precedes it.
 */
export function onceApplied(password: pulumi.Output<string>, applied: pulumi.Output<unknown>): pulumi.Output<string> {
  return pulumi.secret(pulumi.all([applied, password]).apply(([, p]) => p));
}

/**
 * What a login role's `password` is set to: the password's SCRAM-SHA-256 verifier
 * (components/scram.ts), never the password. The PostgreSQL provider sends it in a plain
 * `CREATE ROLE … PASSWORD '…'` / `ALTER ROLE … PASSWORD '…'` (terraform-provider-postgresql
 * postgresql/resource_postgresql_role.go, resourcePostgreSQLRoleCreate and setRolePassword), which
 * a statement log records as it is. Reading the role back causes no diff: with `superuser:
 * false` the provider keeps the state's value, and as a superuser it compares pg_shadow's
 * verifier with the state's as strings, which are equal (readRolePassword, both at ff936b9).
 */
export function loginVerifier(password: pulumi.Output<string>, role: string, server?: string): pulumi.Output<string> {
  return pulumi.secret(password.apply((p) => scramSha256Verifier(p, role, undefined, server)));
}
