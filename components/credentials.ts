import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/**
 * A generated credential. `RandomPassword.result` is secret in state and in every output it
 * flows into; `keepers` is the rotation handle: change it and a new value is generated.
 * Only URL-safe characters, so a password can sit in a connection URL without escaping bugs.
 */
export function generatePassword(
  name: string,
  opts: pulumi.CustomResourceOptions,
  keepers?: Record<string, pulumi.Input<string>>,
  length = 32,
): pulumi.Output<string> {
  const password = new random.RandomPassword(
    name,
    { length, special: true, overrideSpecial: "-_", minLower: 2, minUpper: 2, minNumeric: 2, keepers },
    opts,
  );
  return pulumi.secret(password.result);
}
