import { PolicyPack } from "@pulumi/policy";
import { RULES } from "./rules";

new PolicyPack("gaia-database-safety", {
  policies: RULES.map((rule) => ({
    name: rule.name,
    description: rule.description,
    enforcementLevel: "mandatory" as const,
    validateResource: (args, reportViolation) => {
      if (!rule.types.includes(args.type)) return;
      const problem = rule.check({ type: args.type, name: args.name, props: args.props, protect: args.opts.protect });
      if (problem) reportViolation(problem);
    },
  })),
});
