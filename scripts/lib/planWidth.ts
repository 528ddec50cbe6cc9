/** No line of a plan is wider than this: a reviewer reads it in a terminal or a pull-request comment. */
export const PLAN_WIDTH = 160;

/**
 * `line` broken at spaces into lines of at most `width` (a single longer word stays whole): the
 * first keeps the line's own indent, each after it starts with `indent`. Every part of the plan
 * and its diff that may run long (flags, values, the access section, the summary) wraps with it.
 */
export function wrapLine(line: string, width: number, indent: string): string[] {
  if (line.length <= width) return [line];
  const own = line.slice(0, line.length - line.trimStart().length);
  const [first, ...words] = line.trimStart().split(" ");
  const lines: string[] = [];
  let current = `${own}${first}`;
  for (const word of words) {
    if (`${current} ${word}`.length > width && current.trim() !== "") {
      lines.push(current);
      current = `${indent}${word}`;
    } else current = `${current} ${word}`;
  }
  return [...lines, current];
}
