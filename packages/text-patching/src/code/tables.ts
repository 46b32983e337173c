import { TextPatchingError } from '../errors.js';
import { hex } from '../forms.js';
import type { PatchSite } from './image.js';
import { BP_MODE, ENTRY } from './patch-table.js';

function putWord(out: Uint8Array, at: number, value: bigint): void {
  let v = BigInt.asUintN(64, value);
  for (let i = 0; i < 8; i++) {
    out[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** Sites in address order, refusing overlaps (the patch table is searched by bsearch). */
export function sortSites(sites: readonly PatchSite[]): PatchSite[] {
  const sorted = [...sites].sort((x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (prev.address + BigInt(prev.newBytes.length) > cur.address) {
      throw new TextPatchingError('KERNSIM_PATCH_OVERLAP', `sites at 0x${prev.address.toString(16)} (${String(prev.newBytes.length)} bytes) and 0x${cur.address.toString(16)} overlap`);
    }
  }
  for (const s of sorted) {
    if (s.newBytes.length !== s.oldBytes.length || s.newBytes.length < 1 || s.newBytes.length > 8) {
      throw new TextPatchingError('KERNSIM_PATCH_BAD_SITE', `site 0x${s.address.toString(16)}: old ${hex(s.oldBytes)} and new ${hex(s.newBytes)} must have the same length, 1 to 8 bytes`);
    }
  }
  return sorted;
}

/** The patch table's bytes (`struct text_poke_loc` entries, sorted). */
export function encodePatchTable(sorted: readonly PatchSite[]): Uint8Array {
  const out = new Uint8Array(Math.max(1, sorted.length) * ENTRY.size);
  sorted.forEach((s, i) => {
    const at = i * ENTRY.size;
    putWord(out, at + ENTRY.addr, s.address);
    out[at + ENTRY.len] = s.newBytes.length;
    out[at + ENTRY.mode] = BP_MODE[s.mode];
    out[at + ENTRY.span] = s.span ?? s.newBytes.length;
    const delta = Number(BigInt.asIntN(32, (s.pokeAddress ?? s.address) - s.address));
    new DataView(out.buffer, out.byteOffset).setInt32(at + ENTRY.pokeDelta, delta, true);
    out.set(s.newBytes, at + ENTRY.newBytes);
    out.set(s.oldBytes, at + ENTRY.oldBytes);
    putWord(out, at + ENTRY.handler, s.handler);
  });
  return out;
}
