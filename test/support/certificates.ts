import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface TestCertificates {
  /** PEM of the CA that signed the server's certificate. */
  ca: string;
  /** PEM of a CA that signed nothing of this server. */
  otherCa: string;
  server: { cert: string; key: string };
}

/** A CA and a server certificate it signs for `localhost` only (no IP address in it), made with openssl in `dir`. */
export function makeCertificates(dir: string): TestCertificates {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  for (const ca of ["ca", "other-ca"]) {
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=Gaia test ${ca}`, "-keyout", `${ca}.key`, "-out", `${ca}.pem`);
  }
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr");
  writeFileSync(path.join(dir, "san.ext"), "subjectAltName=DNS:localhost\n");
  openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.crt");
  const read = (file: string) => readFileSync(path.join(dir, file), "utf8");
  return { ca: read("ca.pem"), otherCa: read("other-ca.pem"), server: { cert: read("server.crt"), key: read("server.key") } };
}
