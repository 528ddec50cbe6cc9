/**
 * Names of everything one environment owns. Every name carries the environment, so two
 * environments on one server (local, review environments) can never share a database, a
 * role, a Redis user or a secret.
 */
export interface EnvironmentNames {
  environment: string;
  database: string;
  /** The group role that holds a policy role's privileges (NOLOGIN). */
  groupRole(role: string): string;
  /**
   * A login role an application uses: two per policy role (slots `a` and `b`, alternated by
   * rotation: components/rotation.ts), both members of the group role and holding no grants
   * of their own, so rotating never touches a grant.
   */
  loginRole(role: string, slot?: "a" | "b"): string;
  /** Prefix of every name in the platform's secret store. */
  secretPrefix: string;
  /** Prefix of every Redis key this environment may touch. */
  redisKeyPrefix: string;
  redisUser: string;
  /** Prefix of cloud resource names (instances, groups, apps). */
  resourcePrefix: string;
}

/**
 * Lowercase letter first, then letters and digits, with single `-` between them; at most 24
 * characters. So every cloud name made from it keeps the clouds' identifier rules: no `--` and
 * no trailing `-` in RDS, ElastiCache, Cloud SQL and Memorystore names (see the contracts in
 * components/platforms/<name>/contracts.ts). Not `_`: SQL and Redis names write `-` as `_`, so
 * `a_b` would share `a-b`'s database, roles and Redis user on a shared server (local, review
 * environments); with one separator the mapping is one to one.
 */
export const ENVIRONMENT_NAME_PATTERN = /^(?=.{1,24}$)[a-z](?:-?[a-z0-9])*$/;

export const ENVIRONMENT_NAME_RULE =
  'use 1-24 characters: a lowercase letter first, then lowercase letters and digits, with single "-" between them and none at the end';

/** Why a name with "_" is refused, when it is: the environment it would share everything with. */
export function environmentNameClash(environment: string): string {
  if (!environment.includes("_")) return "";
  const twin = environment.replace(/_/g, "-");
  return ` ("${environment}" would share the database gaia_${twin.replace(/-/g, "_")}, its roles and its Redis user with "${twin}": name it "${twin}")`;
}

export function environmentNames(environment: string): EnvironmentNames {
  if (!ENVIRONMENT_NAME_PATTERN.test(environment)) {
    throw new Error(
      `Environment name "${environment}" is not usable: ${ENVIRONMENT_NAME_RULE}.`,
    );
  }
  const sqlName = `gaia_${environment.replace(/-/g, "_")}`;
  return {
    environment,
    database: sqlName,
    groupRole: (role) => `${sqlName}_${role}`,
    loginRole: (role, slot = "a") => `${sqlName}_${role}_${slot}`,
    secretPrefix: `gaia/${environment}`,
    redisKeyPrefix: `gaia:${environment}:`,
    redisUser: sqlName,
    resourcePrefix: `gaia-${environment.replace(/_/g, "-")}`,
  };
}
