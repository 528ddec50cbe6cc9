// flyctl's text tables, as its internal/render/render.go (v0.4.87) prints them through
// tablewriter v1.1.4, written here from that source: no borders, one space of padding each side
// of a cell, "│" between columns, every cell padded to its column's widest (the last one too),
// a blank line after the table. Cells are trimmed (Behavior.TrimSpace, tablewriter.go Trimmer)
// and a cell with "\n" takes one line per part (prepareContent). Table() draws no line under its
// header and formats it (AutoFormat: tw.Title of tw.SplitCamelCase, tw/fn.go: "camelCase" ->
// "CAMEL CASE", "_" and a dot not between digits -> " ", upper-cased); with no columns it has no
// header. VerticalTable() prints a bold title (aurora.Bold, whatever NO_COLOR says), then for each
// object appends one row per column (its name, its value) and renders the table again: the
// second object's table repeats the first's rows (render.go keeps one table for all of them).
// Widths here are characters: a cell of anything but printable ASCII (wide or combining
// characters, tabs, escapes, which tablewriter measures by display width) is refused rather than
// printed otherwise than flyctl would. Checked byte for byte against recorded output
// (test/fixtures/flyctl, test/commands/fly-render.test.ts).
const SEPARATOR = " │ ";
const BOLD = (text) => `\u001b[1m${text}\u001b[0m`;

/** strings.TrimSpace, then the cell's lines; only printable ASCII is measured as flyctl measures it. */
function linesOf(cell) {
  const text = String(cell).trim();
  if (/[^\x20-\x7e\n]/.test(text)) throw new Error(`flyctl-render: ${JSON.stringify(text)} holds characters whose display width this renderer does not compute`);
  return text.split("\n");
}

/** tw.SplitCamelCase (tw/fn.go), for ASCII: runs of lower, upper, digit, other; an upper run's last letter starts the lower run after it. */
function splitCamelCase(src) {
  const classOf = (c) => (/[a-z]/.test(c) ? 1 : /[A-Z]/.test(c) ? 2 : /[0-9]/.test(c) ? 3 : 4);
  const runs = [];
  let last = 0;
  for (const c of src) {
    const cls = classOf(c);
    if (cls === last) runs[runs.length - 1].push(c);
    else runs.push([c]);
    last = cls;
  }
  for (let i = 0; i < runs.length - 1; i++) {
    if (/[A-Z]/.test(runs[i][0]) && /[a-z]/.test(runs[i + 1][0])) runs[i + 1].unshift(runs[i].pop());
  }
  return runs.map((r) => r.join("")).filter((s) => s.length > 0 && s.trim() !== "" && s !== "_");
}

/** tw.Title (tw/fn.go): "_" and a dot not between digits or spaces become spaces; trimmed; upper-cased. */
function title(name) {
  const numericOrSpace = (c) => c !== undefined && /[0-9 ]/.test(c);
  // In place, as Go's loop: a dot after one already replaced sees the space.
  const rs = [...name];
  rs.forEach((r, i) => {
    if (r === "_") rs[i] = " ";
    else if (r === "." && ((i !== 0 && !numericOrSpace(rs[i - 1])) || (i !== rs.length - 1 && !numericOrSpace(rs[i + 1])))) rs[i] = " ";
  });
  const trimmed = rs.join("").trim();
  return (trimmed === "" && name.length > 0 ? " " : trimmed).toUpperCase();
}

/** The header cell as AutoFormat makes it (tablewriter.go prepareContent). */
const autoFormat = (cell) => title(splitCamelCase(String(cell).trim()).join(" "));

function rowsOf(rows) {
  const split = rows.map((row) => row.map(linesOf));
  const widths = [];
  for (const row of split) row.forEach((lines, i) => (widths[i] = Math.max(widths[i] ?? 0, ...lines.map((l) => l.length))));
  return split
    .flatMap((row) => {
      const height = Math.max(...row.map((lines) => lines.length));
      return Array.from({ length: height }, (_, n) => ` ${row.map((lines, i) => (lines[n] ?? "").padEnd(widths[i])).join(SEPARATOR)} \n`);
    })
    .join("");
}

/** render.Table(w, title, rows, cols...) */
function table(rows, cols, heading = "") {
  for (const row of rows) if (cols.length && row.length !== cols.length) throw new Error(`flyctl-render: a row of ${row.length} cells under ${cols.length} columns`);
  const body = rowsOf([...(cols.length ? [cols.map(autoFormat)] : []), ...rows]);
  return `${heading ? `${BOLD(heading)}\n` : ""}${body}\n`;
}

/** render.VerticalTable(w, title, objects, cols...): each object renders every row appended so far. */
function verticalTable(heading, objects, cols) {
  let out = heading ? `${BOLD(heading)}\n` : "";
  const appended = [];
  for (const values of objects) {
    cols.forEach((c, i) => appended.push([c, values[i]]));
    out += `${rowsOf(appended)}\n`;
  }
  return out;
}

module.exports = { table, verticalTable };
