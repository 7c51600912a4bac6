// A line of a child's output as HTML: the text escaped first, then its SGR colour codes (ESC [ … m) turned
// into spans with classes (the page's CSP allows no style attributes). Every other escape sequence is
// dropped. Nothing of the line can become markup.

const ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

interface Style {
  fg: number | null;
  bg: number | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
}

const plain = (): Style => ({ fg: null, bg: null, bold: false, dim: false, italic: false, underline: false });

// CSI sequences (SGR among them), OSC strings (titles, links) and lone two-character escapes
const SEQUENCE = /\x1b\[([0-9;:?]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?/g;

/** the nearest of the 16 basic colours to an RGB triple: enough to keep a colour's meaning */
function nearest16(r: number, g: number, b: number): number {
  const bright = Math.max(r, g, b) > 191 ? 8 : 0;
  const bit = (v: number): number => (v > 95 ? 1 : 0);
  const code = bit(r) | (bit(g) << 1) | (bit(b) << 2);
  return code === 0 && bright ? 7 : code + bright;
}

function from256(n: number): number {
  if (n < 16) return n;
  if (n >= 232) {
    const level = (n - 232) * 10 + 8;
    return level < 64 ? 0 : level < 160 ? 8 : level < 224 ? 7 : 15;
  }
  const i = n - 16;
  const scale = [0, 95, 135, 175, 215, 255];
  return nearest16(scale[Math.floor(i / 36)] ?? 0, scale[Math.floor(i / 6) % 6] ?? 0, scale[i % 6] ?? 0);
}

/** applies one SGR parameter list to the style */
function apply(style: Style, params: string): void {
  const codes = params === "" ? [0] : params.split(/[;:]/).map((p) => (p === "" ? 0 : Number(p)));
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i] ?? 0;
    if (c === 0) Object.assign(style, plain());
    else if (c === 1) style.bold = true;
    else if (c === 2) style.dim = true;
    else if (c === 3) style.italic = true;
    else if (c === 4) style.underline = true;
    else if (c === 22) style.bold = style.dim = false;
    else if (c === 23) style.italic = false;
    else if (c === 24) style.underline = false;
    else if (c >= 30 && c <= 37) style.fg = c - 30;
    else if (c >= 90 && c <= 97) style.fg = c - 90 + 8;
    else if (c === 39) style.fg = null;
    else if (c >= 40 && c <= 47) style.bg = c - 40;
    else if (c >= 100 && c <= 107) style.bg = c - 100 + 8;
    else if (c === 49) style.bg = null;
    else if (c === 38 || c === 48) {
      const mode = codes[i + 1];
      let colour: number | null = null;
      if (mode === 5) {
        colour = from256(codes[i + 2] ?? 0);
        i += 2;
      } else if (mode === 2) {
        colour = nearest16(codes[i + 2] ?? 0, codes[i + 3] ?? 0, codes[i + 4] ?? 0);
        i += 4;
      }
      if (colour !== null && colour >= 0 && colour < 16) {
        if (c === 38) style.fg = colour;
        else style.bg = colour;
      }
    }
  }
}

function classes(style: Style): string {
  const list: string[] = [];
  if (style.fg !== null) list.push(`a-f${style.fg}`);
  if (style.bg !== null) list.push(`a-b${style.bg}`);
  if (style.bold) list.push("a-bold");
  if (style.dim) list.push("a-dim");
  if (style.italic) list.push("a-italic");
  if (style.underline) list.push("a-under");
  return list.join(" ");
}

/** the line as HTML: escaped text in spans of classes a-f0…a-f15, a-b0…a-b15, a-bold, a-dim, a-italic, a-under */
export function ansiToHtml(line: string): string {
  const style = plain();
  let html = "";
  let last = 0;
  const text = (chunk: string): void => {
    if (chunk === "") return;
    const names = classes(style);
    html += names === "" ? escapeHtml(chunk) : `<span class="${names}">${escapeHtml(chunk)}</span>`;
  };
  for (const match of line.matchAll(SEQUENCE)) {
    text(line.slice(last, match.index));
    last = match.index + match[0].length;
    if (match[2] === "m") apply(style, match[1] ?? "");
  }
  text(line.slice(last));
  return html;
}

/** the line without its escape sequences: what search matches against */
export function stripAnsi(line: string): string {
  return line.replace(SEQUENCE, "");
}
