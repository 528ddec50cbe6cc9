#!/usr/bin/env node
// A stand-in for flyctl in tests: the Fly API simulated in a JSON file (FAKE_FLY_STATE). It
// answers the calls ops/fly.ts makes, as flyctl's --json output would, and records each call.
const fs = require("node:fs");

const file = process.env.FAKE_FLY_STATE;
const state = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : { apps: [], redis: [], secrets: {}, calls: [], events: [] };
const args = process.argv.slice(2);
const stdin = args[0] === "secrets" && args[1] === "import" ? fs.readFileSync(0, "utf8") : "";
state.calls.push(args);
const flag = (name) => args[args.indexOf(name) + 1];
const app = (name) => state.apps.find((a) => a.Name === name);
let out = "";
let id = state.calls.length;

const command = args.filter((a) => !a.startsWith("-")).slice(0, 3).join(" ");
if (command.startsWith("apps list")) out = JSON.stringify(state.apps.map((a) => ({ Name: a.Name })));
else if (command.startsWith("postgres create")) {
  const region = flag("--region");
  state.apps.push({ Name: flag("--name"), machines: Array.from({ length: Number(flag("--initial-cluster-size")) }, () => ({ id: `m${id++}`, region })) });
} else if (command.startsWith("machines list")) out = JSON.stringify(app(flag("-a")).machines);
else if (command.startsWith("machine clone")) app(flag("-a")).machines.push({ id: `m${id++}`, region: flag("--region") });
else if (command.startsWith("postgres backup config") || command.startsWith("postgres config update") || command.startsWith("postgres backup create")) state.events.push(args.join(" "));
else if (command.startsWith("apps destroy")) state.apps = state.apps.filter((a) => a.Name !== args[2]);
else if (command.startsWith("redis list")) out = JSON.stringify(state.redis.map((r) => ({ name: r.name })));
else if (command.startsWith("redis create")) state.redis.push({ name: flag("--name"), privateUrl: `redis://default:fake-redis-password-${id}@fly-${flag("--name")}.upstash.io:6379` });
else if (command.startsWith("redis status")) out = JSON.stringify(state.redis.find((r) => r.name === args[2]));
else if (command.startsWith("redis destroy")) state.redis = state.redis.filter((r) => r.name !== args[2]);
else if (command.startsWith("secrets import")) {
  const [name, ...value] = stdin.trim().split("=");
  state.secrets[flag("-a")] = { ...state.secrets[flag("-a")], [name]: value.join("=") };
} else if (command.startsWith("secrets unset")) delete (state.secrets[flag("-a")] ?? {})[args[2]];
else {
  process.stderr.write(`fake flyctl: unknown command ${args.join(" ")}\n`);
  process.exit(2);
}
fs.writeFileSync(file, JSON.stringify(state));
process.stdout.write(out);
