/** Added/removed counts of one `--numstat` line; binary files (`-`) count 0 like gitdm. */
export function parseNumstatLine(line: string): { readonly added: number; readonly removed: number } | undefined {
  const tab1 = line.indexOf('\t');
  if (tab1 <= 0) return undefined;
  const tab2 = line.indexOf('\t', tab1 + 1);
  if (tab2 < 0) return undefined;
  const a = line.slice(0, tab1);
  const r = line.slice(tab1 + 1, tab2);
  if (a === '-' && r === '-') return { added: 0, removed: 0 };
  if (!isDigits(a) || !isDigits(r)) return undefined;
  return { added: Number(a), removed: Number(r) };
}

function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
