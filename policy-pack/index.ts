import { PolicyPack, type Policies } from "@pulumi/policy";
import { RULES, STACK_RULES } from "./rules";

const resourcePolicies: Policies = RULES.map((rule) => ({
  name: rule.name,
  description: rule.description,
  enforcementLevel: "mandatory" as const,
  validateResource: (args, reportViolation) => {
    if (!rule.types.includes(args.type)) return;
    const problem = rule.check({ type: args.type, name: args.name, props: args.props, protect: args.opts.protect });
    if (problem) reportViolation(problem);
  },
}));

const stackPolicies: Policies = STACK_RULES.map((rule) => ({
  name: rule.name,
  description: rule.description,
  enforcementLevel: "mandatory" as const,
  validateStack: (args, reportViolation) => {
    const resources = args.resources.map((r) => ({ type: r.type, name: r.name, props: r.props, protect: r.opts.protect }));
    for (const problem of rule.check(resources)) reportViolation(problem);
  },
}));

new PolicyPack("gaia-database-safety", { policies: [...resourcePolicies, ...stackPolicies] });
