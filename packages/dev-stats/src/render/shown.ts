import type { Table } from '../report.js';

/** The credit tables are left out of the human formats when nobody has a credit. */
export function shown(table: Table): boolean {
  return table.rows.length > 0 || table.id === 'changesets' || table.id === 'changed-lines';
}
