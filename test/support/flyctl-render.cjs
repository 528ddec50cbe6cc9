// flyctl's text tables, as its internal/render/render.go (v0.4.87) prints them through
// tablewriter v1.1.4, written here from that source: no borders, one space of padding each side
// of a cell, "│" between columns, every cell padded to its column's widest (the last one too),
// a blank line after the table. Table() upper-cases its header (AutoFormat on) and draws no line
// under it; VerticalTable() prints a bold title, then one row per column: its name, its value.
// Checked byte for byte against recorded output (test/fixtures/flyctl, test/commands/fly-render.test.ts).
const SEPARATOR = " │ ";
const BOLD = (text) => `\u001b[1m${text}\u001b[0m`;

function rowsOf(rows) {
  const widths = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  return rows.map((row) => ` ${row.map((cell, i) => cell + " ".repeat(widths[i] - [...cell].length)).join(SEPARATOR)} \n`).join("");
}

/** render.Table(w, "", rows, cols...) */
function table(rows, cols) {
  return `${rowsOf([cols.map((c) => c.toUpperCase()), ...rows])}\n`;
}

/** render.VerticalTable(w, title, [values], cols...) for one object. */
function verticalTable(title, values, cols) {
  return `${title ? `${BOLD(title)}\n` : ""}${rowsOf(cols.map((c, i) => [c, values[i]]))}\n`;
}

module.exports = { table, verticalTable };
